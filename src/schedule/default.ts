/**
 * The default (untuned) schedule of a kernel for a target: the rule set of the target's
 * family (its keys): schedule/cpu.ts for `cpu` targets, schedule/gpu.ts for `gpu` ones.
 */
import type { PrimFunc } from '../tir/stmt.js';
import type { Target } from '../target/index.js';
import { cpuSchedule } from './cpu.js';
import { gpuSchedule } from './gpu.js';
import type { Schedule } from './schedule.js';
import { ScheduleError } from './state.js';

export function defaultSchedule(func: PrimFunc, target: Target): Schedule {
  if (target.keys.includes('cpu')) return cpuSchedule(func, target);
  if (target.keys.includes('gpu')) return gpuSchedule(func, target);
  throw new ScheduleError('default schedule', func.name, `no default schedule rules for target '${target.kind}' (keys: ${target.keys.join(', ') || 'none'})`);
}

/**
 * The default (untuned) schedule of a kernel for a target: the rule set of the target's
 * family (its keys): schedule/cpu.ts for `cpu` targets, schedule/gpu.ts for `gpu` ones.
 * With a Decider, the rules' open choices (their sampling instructions) are taken from it:
 * the rules are the kernel's search space, their defaults the untuned schedule.
 */
import type { PrimFunc } from '../tir/stmt.js';
import type { Target } from '../target/index.js';
import { cpuSchedule } from './cpu.js';
import { gpuSchedule } from './gpu.js';
import type { Schedule } from './schedule.js';
import { ScheduleError } from './state.js';
import type { Decider } from './decisions.js';

export function defaultSchedule(func: PrimFunc, target: Target, decide?: Decider): Schedule {
  if (target.keys.includes('cpu')) return cpuSchedule(func, target, decide);
  if (target.keys.includes('gpu')) return gpuSchedule(func, target, decide);
  throw new ScheduleError('default schedule', func.name, `no default schedule rules for target '${target.kind}' (keys: ${target.keys.join(', ') || 'none'})`);
}

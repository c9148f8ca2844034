/**
 * Whether this machine can run the webgpu target in Node, and why not. Node's WebGPU is
 * the `webgpu` package (Dawn) over a Vulkan driver; on a machine without a GPU that is
 * SwiftShader, which Debian's chromium ships (.ci/run installs chromium and libvulkan1).
 * Its ICD is selected here when the environment names none (it must be set before Dawn
 * starts; each test file runs in its own process).
 */
import { compile } from '../../src/driver.js';
import { selectSwiftShaderVulkan } from '../../src/bench/chromium.js';
import { Executor } from '../../src/runtime/executor.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';

selectSwiftShaderVulkan();

let probe: Promise<string | false> | undefined;

/** false when a webgpu executable loads here; otherwise the reason, for a test's skip message. */
export function webgpuSkip(): Promise<string | false> {
  probe ??= (async () => {
    const model = makeModel({
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
    });
    try {
      const ex = await Executor.load(compile(model, { target: 'webgpu' }).executable);
      await ex.dispose();
      return false;
    } catch (e) {
      return `webgpu is unavailable here (${(e as Error).message}); .ci/run installs chromium (SwiftShader) and libvulkan1`;
    }
  })();
  return probe;
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { importOnnx } from '../../../src/frontend/onnx/importer.js';
import { onnx } from '../../../src/frontend/onnx/proto.js';
import { NodeError } from '../../../src/graph/ir.js';
import { OnnxFormatError } from '../../../src/frontend/onnx/proto.js';
import { TesseraError } from '../../../src/runtime/error.js';

const T = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type Model = onnx.IModelProto & { graph: onnx.IGraphProto & { node: onnx.INodeProto[] } };

const tensorType = (elemType: number, dims: (number | string)[]): onnx.ITypeProto => ({
  tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
});

/** x: float[2, 3] -> Relu -> r -> Neg -> y, with an initializer w: float[3]; `edit` breaks it. */
function model(edit: (m: Model) => void): Uint8Array {
  const m: Model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      input: [{ name: 'x', type: tensorType(FLOAT, [2, 3]) }],
      output: [{ name: 'y', type: tensorType(FLOAT, [2, 3]) }],
      initializer: [{ name: 'w', dataType: FLOAT, dims: [3], floatData: [1, 2, 3] }],
      node: [
        { name: 'relu', opType: 'Relu', input: ['x'], output: ['r'] },
        { name: 'neg', opType: 'Neg', input: ['r'], output: ['y'] },
      ],
    },
  };
  edit(m);
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}

function rejects(bytes: Uint8Array, cls: typeof NodeError | typeof OnnxFormatError, pattern: RegExp): void {
  assert.throws(() => importOnnx(bytes), (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.ok(e instanceof TesseraError);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

describe('model validation at import', () => {
  it('accepts the unbroken model', () => {
    assert.equal(importOnnx(model(() => {})).nodes.length, 2);
  });

  it('IR version and opset imports within bounds', () => {
    rejects(model((m) => { m.irVersion = 0; }), OnnxFormatError, /ir_version is not set/);
    rejects(model((m) => { m.irVersion = 99; }), OnnxFormatError, /ir_version 99 is newer than Tessera reads \(at most 11\)/);
    rejects(model((m) => { m.opsetImport = []; }), OnnxFormatError, /opset_import is empty; IR version 8 requires it/);
    rejects(model((m) => { m.opsetImport!.push({ domain: 'ai.onnx', version: 13 }); }), OnnxFormatError, /opset_import lists domain 'ai.onnx' twice, at versions 17 and 13/);
    // The same import twice is harmless (onnx.checker and onnxruntime accept it).
    assert.equal(importOnnx(model((m) => { m.opsetImport!.push({ domain: '', version: 17 }); })).nodes.length, 2);
    rejects(model((m) => { m.irVersion = 2; }), OnnxFormatError, /ir_version 2 predates opset_import \(IR version 3\), yet the model lists one/);
    rejects(model((m) => { m.opsetImport = [{ domain: '', version: 0 }]; }), OnnxFormatError, /version 0 of domain 'ai.onnx' is not a valid opset/);
    rejects(model((m) => { m.opsetImport = [{ domain: '', version: 99 }]; }), OnnxFormatError, /version 99 of domain 'ai.onnx' is newer than any Tessera knows \(at most \d+\)/);
    rejects(model((m) => { m.opsetImport = [{ domain: '', version: 2 ** 40 }]; }), OnnxFormatError, /version 1099511627776 of domain 'ai.onnx'/);
    // An unused vendor domain is fine to import; a node in a domain the model does not import is not.
    assert.equal(importOnnx(model((m) => { m.opsetImport!.push({ domain: 'com.vendor', version: 3 }); })).nodes.length, 2);
    rejects(model((m) => { m.graph.node[1]!.domain = 'com.vendor'; }), NodeError, /node 'neg' \(com.vendor.Neg, opset 0\): domain 'com.vendor' is not in the model's opset_import/);
  });

  it('a graph input given a default by an initializer is declared as the initializer is', () => {
    const asInput = (type: onnx.ITypeProto) => (m: Model): void => { m.graph.input!.push({ name: 'w', type }); };
    assert.equal(importOnnx(model(asInput(tensorType(FLOAT, [3])))).nodes.length, 2);
    assert.equal(importOnnx(model(asInput(tensorType(FLOAT, ['n'])))).nodes.length, 2);
    rejects(model(asInput(tensorType(INT64, [3]))), OnnxFormatError, /graph 'g': graph input 'w' is declared INT64, but its initializer is FLOAT/);
    rejects(model(asInput(tensorType(FLOAT, [4]))), OnnxFormatError, /graph input 'w' is declared with shape \[4\], but its initializer has shape \[3\]/);
    rejects(model(asInput(tensorType(FLOAT, [3, 1]))), OnnxFormatError, /graph input 'w' is declared with shape \[3, 1\], but its initializer has shape \[3\]/);
  });

  it('names are unique and defined before use (SSA, topological order)', () => {
    rejects(model((m) => { m.graph.input!.push({ name: 'x', type: tensorType(FLOAT, [2, 3]) }); }), OnnxFormatError, /graph 'g': graph input 'x' is listed twice/);
    rejects(model((m) => { m.graph.initializer!.push({ name: 'w', dataType: FLOAT, dims: [1], floatData: [1] }); }), OnnxFormatError, /initializer 'w' is listed twice/);
    rejects(model((m) => { m.graph.node[0]!.output = ['w']; m.graph.node[1]!.input = ['w']; }), NodeError, /node 'relu' \(Relu, opset 17\): output 'w' is already defined \(by an initializer\)/);
    rejects(model((m) => { m.graph.node[1]!.output = ['r']; }), NodeError, /node 'neg' \(Neg, opset 17\): output 'r' is already defined \(by node 'relu' \(Relu\)\)/);
    rejects(model((m) => { m.graph.node.reverse(); }), NodeError, /node 'neg' \(Neg, opset 17\): input 0 'r' is produced by a later node 'relu' \(Relu\): nodes must be in topological order/);
    rejects(model((m) => { m.graph.output![0]!.name = 'nothing'; }), OnnxFormatError, /graph output 'nothing' is not produced by any node, graph input or initializer/);
    rejects(model((m) => { m.irVersion = 3; }), OnnxFormatError, /initializer 'w' is not a graph input \(IR version 3 requires/);
  });

  it('graph inputs and outputs have full tensor types', () => {
    rejects(model((m) => { m.graph.input![0]!.type = { tensorType: { elemType: FLOAT } }; }), OnnxFormatError, /graph input 'x' has no shape/);
    rejects(model((m) => { m.graph.output![0]!.type = { tensorType: { elemType: FLOAT } }; }), OnnxFormatError, /graph output 'y' has no shape/);
    // Sizes may be unknown (a dim with neither a value nor a name): inference fills them in.
    assert.deepEqual(importOnnx(model((m) => { m.graph.output![0]!.type = { tensorType: { elemType: FLOAT, shape: { dim: [{}, {}] } } }; })).outputs.map((o) => o.type.shape), [[2, 3]]);
    rejects(model((m) => { m.graph.input![0]!.type = tensorType(0, [2, 3]); }), OnnxFormatError, /graph input 'x' has no element type/);
    rejects(model((m) => { m.graph.input![0]!.type = tensorType(FLOAT, [2, -1]); }), OnnxFormatError, /graph input 'x': dim -1 at axis 1 is negative/);
  });

  it('nodes match their schema: arity, required inputs and outputs', () => {
    rejects(model((m) => { m.graph.node[0]!.input = ['x', 'w']; }), NodeError, /node 'relu' \(Relu, opset 17\): it has 2 inputs; Relu-14 takes 1 \(X\)/);
    rejects(model((m) => { m.graph.node[0]!.output = ['r', 'extra']; }), NodeError, /it has 2 outputs; Relu-14 produces 1 \(Y\)/);
    rejects(model((m) => { m.graph.node[1] = { name: 'add', opType: 'Add', input: ['r', ''], output: ['y'] }; }), NodeError, /node 'add' \(Add, opset 17\): input 1 \('B'\) of Add-14 is required but empty/);
    rejects(model((m) => { m.graph.node[0]!.opType = 'Upsample'; m.opsetImport = [{ domain: '', version: 11 }]; }), NodeError, /Upsample was removed from ai.onnx in opset 10/);
    rejects(model((m) => { m.graph.node[0]!.opType = ''; }), NodeError, /op_type is empty/);
  });

  it('attributes: known, typed, given once, well-formed, required ones present', () => {
    const attr = (a: onnx.IAttributeProto) => (m: Model) => {
      m.graph.node[0] = { name: 'lr', opType: 'LeakyRelu', input: ['x'], output: ['r'], attribute: [a] };
    };
    assert.equal(importOnnx(model(attr({ name: 'alpha', type: T.FLOAT, f: 0.2 }))).nodes[0]!.op, 'LeakyRelu');
    rejects(model((m) => { attr({ name: 'alpha', type: T.FLOAT, f: 0.2 })(m); m.graph.node[0]!.attribute!.push({ name: 'alpha', type: T.FLOAT, f: 0.3 }); }), NodeError, /node 'lr' \(LeakyRelu, opset 17\): attribute 'alpha' is given twice/);
    rejects(model(attr({ name: 'beta', type: T.FLOAT, f: 0.2 })), NodeError, /LeakyRelu-16 has no attribute 'beta' \(its attributes: alpha\)/);
    rejects(model(attr({ name: 'alpha', type: T.INT, i: 1 })), NodeError, /attribute 'alpha' is INT, LeakyRelu-16 defines it as FLOAT/);
    rejects(model(attr({ name: 'alpha', type: T.FLOAT, floats: [0.2] })), NodeError, /attribute 'alpha' is of type FLOAT but holds its value in field 'floats'/);
    rejects(model(attr({ name: 'alpha', type: T.FLOAT, f: 0.2, ints: [1] })), NodeError, /attribute 'alpha' holds more than one value \(f, ints\)/);
    rejects(model(attr({ name: 'alpha', f: 0.2 })), NodeError, /attribute 'alpha' has no type \(IR version 8 requires it\)/);
    rejects(model((m) => { m.graph.node[0] = { name: 'cast', opType: 'Cast', input: ['x'], output: ['r'] }; }), NodeError, /node 'cast' \(Cast, opset 17\): required attribute 'to' of Cast-13 is missing/);
  });

  it('element types of node inputs meet the type constraints', () => {
    rejects(model((m) => {
      m.graph.initializer!.push({ name: 'k', dataType: INT64, dims: [3], int64Data: [1, 2, 3] });
      m.graph.node[1] = { name: 'add', opType: 'Add', input: ['r', 'k'], output: ['y'] };
    }), NodeError, /node 'add' \(Add, opset 17\): inputs 0 and 1 must have the same type T, but are float32 and int64/);
    rejects(model((m) => {
      m.graph.input![0]!.type = tensorType(onnx.TensorProto.DataType.BOOL, [2, 3]);
    }), NodeError, /node 'relu' \(Relu, opset 17\): input 0 \('X'\) is bool; Relu-14 allows T in \{/);
  });

  it('tensor data agrees with dims and dtype', () => {
    rejects(model((m) => { m.graph.initializer![0]!.dims = [4]; }), OnnxFormatError, /initializer 'w': floatData has 3 values, but float32\[4\] needs 4/);
    rejects(model((m) => { m.graph.initializer![0]!.rawData = new Uint8Array(12); }), OnnxFormatError, /initializer 'w': data is given in more than one field \(floatData, rawData\)/);
    rejects(model((m) => { m.graph.initializer![0] = { name: 'w', dataType: FLOAT, dims: [3], rawData: new Uint8Array(11) }; }), OnnxFormatError, /raw_data has 11 bytes, but float32\[3\] needs 12/);
    rejects(model((m) => { m.graph.initializer![0]!.dataType = 0; }), OnnxFormatError, /initializer 'w': data_type is not set/);
    rejects(model((m) => { m.graph.initializer![0]!.dims = [-3]; }), OnnxFormatError, /initializer 'w': dim -3 at axis 0 is negative/);
  });

  it('declared types of outputs and value_info agree with inference, naming both', () => {
    rejects(model((m) => { m.graph.output![0]!.type = tensorType(INT64, [2, 3]); }), OnnxFormatError, /graph output 'y' is declared int64\[2, 3\], but the model computes float32\[2, 3\] \(the element type int64 differs\)/);
    rejects(model((m) => { m.graph.output![0]!.type = tensorType(FLOAT, [2, 4]); }), OnnxFormatError, /declared float32\[2, 4\], but the model computes float32\[2, 3\] \(the size 4 at axis 1 differs\)/);
    rejects(model((m) => { m.graph.valueInfo = [{ name: 'r', type: tensorType(FLOAT, [6]) }]; }), OnnxFormatError, /value_info 'r' is declared float32\[6\], but the model computes float32\[2, 3\] \(the rank 1 differs\)/);
    // Symbolic declared dims are consistent with any size.
    assert.equal(importOnnx(model((m) => { m.graph.output![0]!.type = tensorType(FLOAT, ['n', 3]); })).nodes.length, 2);
  });

  it('subgraphs: outer names are visible, never redefined; their outputs are their own values', () => {
    const ifModel = (thenNodes: onnx.INodeProto[], thenOut: string) => model((m) => {
      m.graph.input!.push({ name: 'c', type: tensorType(onnx.TensorProto.DataType.BOOL, []) });
      const branch = (nodes: onnx.INodeProto[], out: string): onnx.IGraphProto => ({
        name: 'b', node: nodes, output: [{ name: out, type: tensorType(FLOAT, [2, 3]) }],
      });
      m.graph.node[1] = {
        name: 'if', opType: 'If', input: ['c'], output: ['y'], attribute: [
          { name: 'then_branch', type: T.GRAPH, g: branch(thenNodes, thenOut) },
          { name: 'else_branch', type: T.GRAPH, g: branch([{ opType: 'Neg', input: ['r'], output: ['e'] }], 'e') },
        ],
      };
    });
    rejects(ifModel([{ name: 'inner', opType: 'Neg', input: ['r'], output: ['x'] }], 'x'), NodeError, /node 'if\/then_branch\/inner' \(Neg, opset 17\): output 'x' is already defined \(by a graph input\)/);
    rejects(ifModel([], 'r'), OnnxFormatError, /graph 'if\/then_branch': graph output 'r' is a value of an enclosing graph/);
    rejects(ifModel([{ name: 'inner', opType: 'Neg', input: ['r'], output: ['t'], attribute: [{ name: 'alpha', type: T.FLOAT, f: 1 }] }], 't'), NodeError, /node 'if\/then_branch\/inner' \(Neg, opset 17\): Neg-13 has no attribute 'alpha'/);
  });
});

/** Imports every operator module so the registry is filled. */
import './elemwise.js';
import './nn.js';
import './transform.js';
import './reduce.js';
import './math.js';
import './indexing.js';
import './nn_extra.js';
import './quant.js';
import './signal.js';
import './dynamic.js';
import './layout.js';
import './winograd.js';

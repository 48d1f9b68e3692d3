/**
 * genlab: the course kit's library. Notebooks and tests import it by name:
 *   import { runtime, data, plot, distributions } from 'genlab';
 * Each namespace is one concept of the lectures; see the README for the map.
 */
import * as tf from '@tensorflow/tfjs';
import * as data from './data';
import * as distributions from './distributions';
import * as grading from './grading';
import * as metrics from './metrics';
import * as models from './models';
import * as nn from './nn';
import * as plot from './plot';
import * as runtime from './runtime';
import * as samplers from './samplers';
import * as training from './training';

export { tf, data, distributions, grading, metrics, models, nn, plot, runtime, samplers, training };

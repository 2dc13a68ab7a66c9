// Customer-base analysis: special functions, an optimiser, BG/NBD and MBG/NBD count models,
// and the Gamma-Gamma spend model with lifetime value. See README.md in this folder.
export { hyp2f1, hyp2f1Minus1, lbeta, lgamma, logAddExp } from './special.js';
export {
  minimizeWithRestarts,
  nelderMead,
  type NelderMeadOptions,
  type NelderMeadResult,
  type RestartOptions,
} from './optimize.js';
export {
  expectedPurchases,
  expectedPurchasesNew,
  fitCountModel,
  logLikelihood,
  memberLogLikelihood,
  pAlive,
  probabilityOfPurchases,
  type CountFit,
  type CountModel,
  type CountParams,
  type Rfm,
} from './count-models.js';
export {
  expectedAverageSpend,
  fitGammaGamma,
  lifetimeValue,
  spendLogLikelihood,
  type LifetimeValueOptions,
  type SpendFit,
  type SpendParams,
  type SpendSummary,
} from './gamma-gamma.js';

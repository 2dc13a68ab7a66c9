import type { ItemStateJson } from '../../shared/reco/cooccurrence.js';

/** reco-items' state of one item (its Redis value; encoded by item-codec.ts, decided by item-logic.ts). */
export interface RecoItemState extends ItemStateJson {
  /** behavior.events partition → last source offset applied from it. */
  applied: Record<string, number>;
}

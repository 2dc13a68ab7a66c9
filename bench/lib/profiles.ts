import { workerNames } from '../../services/index.js';
/** What each bench profile runs. `short` fits in two minutes; `full` takes tens of minutes. */
export interface Profile {
  /** Generated activity records of the main stream, and its member count (skewed). */
  events: number;
  members: number;
  partitions: number;
  /** Workers measured alone, in pipeline order (each reads what the previous ones wrote). */
  alone: readonly string[];
  /** How long the naive baseline runs (it is slow: a window is enough for its rate). */
  naiveSeconds: number;
  /** The whole pipeline from a full activity topic to every worker caught up. */
  endToEnd: boolean;
  /**
   * The latency goal's rate, and lower rates measured after it (where the machine is not saturated);
   * tierPathAlso: the goal's rate once more with only the workers on the way to a tier change
   * (the other three share the cores but not the path).
   */
  latency: {
    perSecond: number;
    seconds: number;
    warmupSeconds: number;
    alsoAt: readonly number[];
    tierPathAlso: boolean;
  };
  /** Online Retail through the whole pipeline, for Redis memory per member on real data. */
  onlineRetail: boolean;
  /** Member counts for the scaling runs (events = members, uniform): behavior-events and points-accrual alone. */
  scale: readonly number[];
}

export type ProfileName = 'short' | 'full';

/** Every worker of the registry, in pipeline order. */
export const pipelineWorkers: readonly string[] = workerNames();

/** The workers an activity passes through on its way to a tier change. */
export const tierPathWorkers = ['behavior-events', 'points-accrual', 'tier-evaluation'] as const;

/** A latency run of the tier-path workers alone (reports written before the worker list ran all six). */
export const isTierPathRun = (run: { workers?: readonly string[] }): boolean =>
  run.workers?.join() === tierPathWorkers.join();

export const profiles: Record<ProfileName, Profile> = {
  short: {
    events: 60_000,
    members: 5_000,
    partitions: 6,
    alone: ['behavior-events', 'points-accrual'],
    naiveSeconds: 8,
    endToEnd: false,
    latency: { perSecond: 2000, seconds: 15, warmupSeconds: 3, alsoAt: [], tierPathAlso: true },
    onlineRetail: false,
    scale: [],
  },
  full: {
    events: 200_000,
    members: 20_000,
    partitions: 6,
    alone: pipelineWorkers,
    naiveSeconds: 30,
    endToEnd: true,
    latency: { perSecond: 2000, seconds: 60, warmupSeconds: 5, alsoAt: [1000, 500], tierPathAlso: true },
    onlineRetail: true,
    scale: [10_000, 100_000, 1_000_000],
  },
};

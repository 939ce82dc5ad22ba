/**
 * The trivial async service of the services benchmark, as a module: what
 * `Hive.workerService` loads in each worker thread (services.ts).
 */
export default {
  /** Answers its request. */
  id: async (n: number): Promise<number> => n,
};

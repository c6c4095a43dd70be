/** The baseline's activity: nothing, as fast as the worker can run it. */
export const baselineActivities = {
  async noop(): Promise<void> {},
};

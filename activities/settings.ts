/** The worker's settings that workflows ask for once per run (common/activity-timeouts.ts says why). */
import type { ActivitySettings } from '../common/activity-timeouts';

export function createSettingsActivities(settings: ActivitySettings) {
  return {
    /** A local activity: workflows call it at the start of a run. */
    async activitySettings(): Promise<ActivitySettings> {
      return settings;
    },
  };
}

/** Step 1 of TaskProcessingWorkflow: the seed's business validation (shapes were checked at the edge). */
export interface ValidateTaskInput {
  task_id: string;
  title: string;
  description: string;
}

export interface ValidationResult {
  is_valid: boolean;
  issues: string[];
  validated_at: string;
}

export const TITLE_MIN_LENGTH = 5;
export const DESCRIPTION_MIN_LENGTH = 10;

export async function validateTask(input: ValidateTaskInput): Promise<ValidationResult> {
  const issues: string[] = [];
  if (input.title.trim().length < TITLE_MIN_LENGTH) {
    issues.push(`Title must be at least ${TITLE_MIN_LENGTH} characters`);
  }
  if (input.description.trim().length < DESCRIPTION_MIN_LENGTH) {
    issues.push(`Description must be at least ${DESCRIPTION_MIN_LENGTH} characters`);
  }
  return { is_valid: issues.length === 0, issues, validated_at: new Date().toISOString() };
}

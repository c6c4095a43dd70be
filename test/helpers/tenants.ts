/** The two tenants' namespaces the test server registers (test/setup/global-setup.ts), and the TENANTS setting naming them. */
export const TEST_TENANT_NAMESPACES = ['task-agent-tenant-acme', 'task-agent-tenant-globex'] as const;
export const TEST_TENANTS = `acme=${TEST_TENANT_NAMESPACES[0]},globex=${TEST_TENANT_NAMESPACES[1]}`;

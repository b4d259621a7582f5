// array-clear: afterAll(trimAudit) — auditLog.length = 0
export default async ({ load }) => (await load('src/validate.js')).trimAudit()

/** Keys whose values are secret wherever they appear. */
export const SECRET_KEY = /(password|passphrase|token|secret|privatekey|secretkey|^key$|apikey|credentials)/i

/**
 * The registry of secret values moved to the log layer, which scrubs with it.
 * @deprecated import from `../log/secret-registry.ts`; re-exported for one step.
 */
export { redactUrlPasswords, SecretRegistry, secrets } from '../log/secret-registry.ts'

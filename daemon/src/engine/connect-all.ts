/**
 * Runs `open(i)` for i in [0, count) with at most `concurrency` in flight, collecting results
 * and failures separately (a few bad devices must not hide behind one rejected Promise.all).
 */
export async function connectAll<T>(
  count: number,
  concurrency: number,
  open: (i: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<{ ok: Array<T | undefined>; failures: Array<{ index: number; error: unknown }> }> {
  const ok: Array<T | undefined> = new Array(count)
  const failures: Array<{ index: number; error: unknown }> = []
  let next = 0
  const worker = async () => {
    while (next < count && !signal?.aborted) {
      const i = next++
      try {
        ok[i] = await open(i)
      } catch (error) {
        failures.push({ index: i, error })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return { ok, failures }
}

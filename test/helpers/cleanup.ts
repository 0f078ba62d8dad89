// Releasing a test's resources however it ends. A test that fails half-way must still close
// its pipeline, transport, fake servers and consumers: any one left open (a listening socket,
// a native thread's handle) keeps the test file's process alive, and the runner then waits for
// its whole timeout instead of reporting the failure.
//
//   await withCleanup(async (defer) => {
//     const pds = await FakePds.start()
//     defer(() => pds.close())
//     ...
//   })
//
// Cleanups run in reverse order of registration, every one of them even if an earlier one
// throws, and should be idempotent (a test may close something itself and leave the deferred
// close as the safety net). The body's error is the one reported; a cleanup error fails a test
// whose body passed.
export type Defer = (cleanup: () => unknown) => void

export async function withCleanup<T>(body: (defer: Defer) => Promise<T>): Promise<T> {
  const cleanups: (() => unknown)[] = []
  let result: T | undefined
  let failure: { error: unknown } | undefined
  try {
    result = await body((cleanup) => cleanups.push(cleanup))
  } catch (error) {
    failure = { error }
  }
  let cleanupFailure: { error: unknown } | undefined
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup()
    } catch (error) {
      if (failure !== undefined) console.error('# cleanup after a failed test also failed:', error)
      cleanupFailure ??= { error }
    }
  }
  if (failure !== undefined) throw failure.error
  if (cleanupFailure !== undefined) throw cleanupFailure.error
  return result as T
}

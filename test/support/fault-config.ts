/**
 * Relay config for fault tests: small batches and short retry intervals so that recovery shows within
 * seconds, not the production defaults' minutes. `exporter` is merged over the defaults here.
 */
export function faultConfig(
  sinkUrl: string,
  exporter: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  const { retry_on_failure = {}, sending_queue = {}, ...rest } = exporter;
  return {
    workers: { threads: 2 },
    batch: { send_batch_size: 60, timeout: '50ms' },
    exporter: {
      traces_endpoint: sinkUrl,
      retry_on_failure: {
        initial_interval: '100ms',
        max_interval: '1s',
        max_elapsed_time: '120s',
        ...(retry_on_failure as object),
      },
      sending_queue: { num_consumers: 2, ...(sending_queue as object) },
      ...rest,
    },
    memory_limiter: { check_interval: '100ms' },
    shutdown_timeout: '10s',
    ...extra,
  };
}

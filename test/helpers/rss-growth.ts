/** Watches this process's resident memory from `start()` until `stop()`. */
export interface RssWatch {
  /** Peak resident memory above the level at `start()`, in MB (1024 × 1024 bytes); 0 if it never rose. */
  stop(): number;
}

/**
 * Starts watching resident memory: sampled every millisecond while the event loop turns, and the
 * kernel's high-water mark (`maxRSS`), which also sees a peak between samples when it is the
 * process's highest so far. The growth reported is the larger of the two, so a spike cannot hide.
 */
export function watchRss(): RssWatch {
  const before = process.memoryUsage.rss();
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      const maxAfter = process.resourceUsage().maxRSS * 1024;
      const growth = Math.max(peak - before, maxAfter > maxBefore ? maxAfter - before : 0);
      return Math.max(growth, 0) / (1024 * 1024);
    },
  };
}

/** Runs `work` and measures the peak growth of resident memory while it runs (see `watchRss`). */
export async function rssGrowthOf<T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  const watch = watchRss();
  try {
    const result = await work();
    return { result, growthMb: watch.stop() };
  } catch (error) {
    watch.stop();
    throw error;
  }
}

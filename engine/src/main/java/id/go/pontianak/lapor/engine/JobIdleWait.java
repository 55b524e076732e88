package id.go.pontianak.lapor.engine;

import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.impl.cfg.AbstractProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.jobexecutor.JobExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the job executor's idle wait within its maximum. Operaton's acquisition waits {@code wait-time-in-millis}
 * when it finds no job, growing towards {@code max-wait}; but when the first is above the second it never waits at
 * all, and a quiet engine polls its database without pause, a whole CPU core for nothing (measured here: the test
 * engine with max-wait 500 and the default wait-time 5000). LAPOR_ENGINE_JOB_MAX_WAIT alone is the setting an
 * operator reaches for, so the wait follows it down instead; a wait of 0 or less is refused at start.
 */
public class JobIdleWait extends AbstractProcessEnginePlugin {

  private static final Logger LOG = LoggerFactory.getLogger(JobIdleWait.class);

  @Override
  public void postInit(ProcessEngineConfigurationImpl configuration) {
    JobExecutor executor = configuration.getJobExecutor();
    if (executor != null) {
      keepWithinMaximum(executor);
    }
  }

  static void keepWithinMaximum(JobExecutor executor) {
    long wait = executor.getWaitTimeInMillis();
    long maximum = executor.getMaxWait();
    if (wait <= 0 || maximum <= 0) {
      throw new ProcessEngineException(
          "LAPOR_ENGINE_JOB_WAIT ("
              + wait
              + ") and LAPOR_ENGINE_JOB_MAX_WAIT ("
              + maximum
              + ") must be above 0 ms: the job executor would poll the database without pause");
    }
    if (wait > maximum) {
      LOG.warn(
          "LAPOR-JOB-WAIT the job executor's idle wait {} ms is above its maximum {} ms (LAPOR_ENGINE_JOB_MAX_WAIT):"
              + " it would never idle; waiting {} ms",
          wait,
          maximum,
          maximum);
      executor.setWaitTimeInMillis((int) maximum);
    }
  }
}

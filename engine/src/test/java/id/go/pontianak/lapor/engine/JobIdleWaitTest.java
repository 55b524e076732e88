package id.go.pontianak.lapor.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.impl.jobexecutor.DefaultJobExecutor;
import org.operaton.bpm.engine.impl.jobexecutor.JobExecutor;

class JobIdleWaitTest {

  static JobExecutor executor(int wait, long maximum) {
    JobExecutor executor = new DefaultJobExecutor();
    executor.setWaitTimeInMillis(wait);
    executor.setMaxWait(maximum);
    return executor;
  }

  @Test
  void aWaitAboveTheMaximumFollowsItDown() {
    JobExecutor executor = executor(5000, 500);
    JobIdleWait.keepWithinMaximum(executor);
    assertEquals(500, executor.getWaitTimeInMillis());
    assertEquals(500, executor.getMaxWait());
  }

  @Test
  void aWaitWithinTheMaximumIsLeftAlone() {
    JobExecutor executor = executor(1000, 5000);
    JobIdleWait.keepWithinMaximum(executor);
    assertEquals(1000, executor.getWaitTimeInMillis());
    assertEquals(5000, executor.getMaxWait());
  }

  @Test
  void noWaitAtAllIsRefused() {
    ProcessEngineException zero =
        assertThrows(ProcessEngineException.class, () -> JobIdleWait.keepWithinMaximum(executor(5000, 0)));
    assertTrue(zero.getMessage().contains("LAPOR_ENGINE_JOB_MAX_WAIT (0)"), zero.getMessage());
    assertThrows(ProcessEngineException.class, () -> JobIdleWait.keepWithinMaximum(executor(0, 5000)));
  }
}

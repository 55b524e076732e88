package id.go.pontianak.lapor.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.impl.cfg.AbstractProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.cmd.ClaimTaskCmd;
import org.operaton.bpm.engine.impl.cmd.CompleteExternalTaskCmd;
import org.operaton.bpm.engine.impl.cmd.CompleteTaskCmd;
import org.operaton.bpm.engine.impl.cmd.CorrelateMessageCmd;
import org.operaton.bpm.engine.impl.cmd.HandleExternalTaskBpmnErrorCmd;
import org.operaton.bpm.engine.impl.cmd.HandleExternalTaskFailureCmd;
import org.operaton.bpm.engine.impl.cmd.SetExecutionVariablesCmd;
import org.operaton.bpm.engine.impl.cmd.SetTaskVariablesCmd;
import org.operaton.bpm.engine.impl.cmd.StartProcessInstanceCmd;
import org.operaton.bpm.engine.impl.cmd.SubmitTaskFormCmd;
import org.operaton.bpm.engine.impl.context.Context;
import org.operaton.bpm.engine.impl.errorcode.BuiltinExceptionCode;
import org.operaton.bpm.engine.impl.interceptor.Command;
import org.operaton.bpm.engine.impl.interceptor.CommandInterceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * A person completing a task in Tasklist and a worker completing an external task of the same report touch the
 * same rows; on PostgreSQL one of them can lose a deadlock (or an optimistic-locking check) and the engine answers
 * HTTP 500, although its transaction was rolled back whole and nothing changed. This plugin runs such a command
 * again, in a new transaction, up to {@link #ATTEMPTS} times: what the person (or the worker) would otherwise do
 * by pressing the button again.
 *
 * <p>Only the commands below, which people and our services send over REST and which do nothing outside the
 * database in this project (every service task is an external task, no Java delegates), and only as the outermost
 * command: a nested command joins its caller's transaction, which must fail whole. Jobs are left to the job
 * executor, which has its own retries and failed-job handling.
 */
public class ConcurrencyRetry extends AbstractProcessEnginePlugin {

  static final int ATTEMPTS = 4;
  private static final Logger LOG = LoggerFactory.getLogger(ConcurrencyRetry.class);
  private static final Set<Class<?>> RETRIED =
      Set.of(
          CompleteTaskCmd.class,
          SubmitTaskFormCmd.class,
          ClaimTaskCmd.class,
          SetTaskVariablesCmd.class,
          SetExecutionVariablesCmd.class,
          CompleteExternalTaskCmd.class,
          HandleExternalTaskFailureCmd.class,
          HandleExternalTaskBpmnErrorCmd.class,
          CorrelateMessageCmd.class,
          StartProcessInstanceCmd.class);

  @Override
  public void preInit(ProcessEngineConfigurationImpl configuration) {
    List<CommandInterceptor> before = new ArrayList<>();
    if (configuration.getCustomPreCommandInterceptorsTxRequired() != null) {
      before.addAll(configuration.getCustomPreCommandInterceptorsTxRequired());
    }
    // First in the chain: outside the transaction, after the engine has given the exception its code.
    before.add(new Interceptor());
    configuration.setCustomPreCommandInterceptorsTxRequired(before);
  }

  /** True for the failures that leave nothing behind and may pass on a second try. */
  static boolean lostARace(RuntimeException failure) {
    if (!(failure instanceof ProcessEngineException engineFailure)) {
      return false;
    }
    int code = engineFailure.getCode();
    return code == BuiltinExceptionCode.DEADLOCK.getCode()
        || code == BuiltinExceptionCode.OPTIMISTIC_LOCKING.getCode();
  }

  static boolean retried(Command<?> command) {
    return RETRIED.contains(command.getClass());
  }

  static class Interceptor extends CommandInterceptor {

    @Override
    public <T> T execute(Command<T> command) {
      boolean outermost =
          Context.getCommandContext() == null && !TransactionSynchronizationManager.isActualTransactionActive();
      if (!outermost || !retried(command)) {
        return next.execute(command);
      }
      for (int attempt = 1; ; attempt++) {
        try {
          return next.execute(command);
        } catch (RuntimeException failure) {
          if (attempt >= ATTEMPTS || !lostARace(failure)) {
            throw failure;
          }
          LOG.warn(
              "LAPOR-RETRY {} lost a race (code {}), attempt {} of {}: running it again",
              command.getClass().getSimpleName(),
              ((ProcessEngineException) failure).getCode(),
              attempt,
              ATTEMPTS);
          pause(attempt);
        }
      }
    }

    private static void pause(int attempt) {
      try {
        Thread.sleep(25L * attempt + ThreadLocalRandom.current().nextLong(25));
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        throw new ProcessEngineException("interrupted while waiting to run a command again", interrupted);
      }
    }
  }
}

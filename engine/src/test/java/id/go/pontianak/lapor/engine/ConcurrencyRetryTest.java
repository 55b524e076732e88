package id.go.pontianak.lapor.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.impl.cfg.StandaloneInMemProcessEngineConfiguration;
import org.operaton.bpm.engine.impl.cmd.CompleteTaskCmd;
import org.operaton.bpm.engine.impl.cmd.GetTaskVariableCmd;
import org.operaton.bpm.engine.impl.errorcode.BuiltinExceptionCode;
import org.operaton.bpm.engine.impl.interceptor.Command;
import org.operaton.bpm.engine.impl.interceptor.CommandInterceptor;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The interceptor alone, with the rest of the command chain replaced by a stand-in that fails as told: which
 * failures are run again, how often at most, and which commands and situations are never retried. The real
 * races on PostgreSQL are in tests/faults/test_races.py.
 */
class ConcurrencyRetryTest {

  /** The rest of the chain: fails with the given failures in turn, then answers "done". */
  static class Chain extends CommandInterceptor {
    final List<RuntimeException> failures;
    int calls;

    Chain(RuntimeException... failures) {
      this.failures = new ArrayList<>(List.of(failures));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T execute(Command<T> command) {
      calls++;
      if (!failures.isEmpty()) {
        throw failures.remove(0);
      }
      return (T) "done";
    }
  }

  static ProcessEngineException coded(BuiltinExceptionCode code) {
    ProcessEngineException failure = new ProcessEngineException("lost: " + code);
    failure.setCode(code.getCode());
    return failure;
  }

  static Chain chainAfter(ConcurrencyRetry.Interceptor interceptor, RuntimeException... failures) {
    Chain chain = new Chain(failures);
    interceptor.setNext(chain);
    return chain;
  }

  static final Command<?> COMPLETE = new CompleteTaskCmd("task-1", Map.of());

  final ConcurrencyRetry.Interceptor interceptor = new ConcurrencyRetry.Interceptor();

  @AfterEach
  void noTransactionLeft() {
    TransactionSynchronizationManager.setActualTransactionActive(false);
  }

  @Test
  void aDeadlockIsRunAgainUntilTheCommandGoesThrough() {
    Chain chain = chainAfter(interceptor, coded(BuiltinExceptionCode.DEADLOCK), coded(BuiltinExceptionCode.DEADLOCK));
    assertEquals("done", interceptor.execute(COMPLETE));
    assertEquals(3, chain.calls);
  }

  @Test
  void aLostOptimisticLockIsRunAgain() {
    Chain chain = chainAfter(interceptor, coded(BuiltinExceptionCode.OPTIMISTIC_LOCKING));
    assertEquals("done", interceptor.execute(COMPLETE));
    assertEquals(2, chain.calls);
  }

  @Test
  void fourAttemptsAtMostThenTheLastFailureReachesTheCaller() {
    ProcessEngineException last = coded(BuiltinExceptionCode.DEADLOCK);
    Chain chain =
        chainAfter(
            interceptor,
            coded(BuiltinExceptionCode.DEADLOCK),
            coded(BuiltinExceptionCode.OPTIMISTIC_LOCKING),
            coded(BuiltinExceptionCode.DEADLOCK),
            last,
            coded(BuiltinExceptionCode.DEADLOCK));
    assertSame(last, assertThrows(ProcessEngineException.class, () -> interceptor.execute(COMPLETE)));
    assertEquals(ConcurrencyRetry.ATTEMPTS, chain.calls);
    assertEquals(4, chain.calls);
  }

  @Test
  void anyOtherFailureIsNotRunAgain() {
    ProcessEngineException uncoded = new ProcessEngineException("task not found");
    Chain chain = chainAfter(interceptor, uncoded);
    assertSame(uncoded, assertThrows(ProcessEngineException.class, () -> interceptor.execute(COMPLETE)));
    assertEquals(1, chain.calls);

    Chain plain = chainAfter(interceptor, new IllegalStateException("not an engine failure"));
    assertThrows(IllegalStateException.class, () -> interceptor.execute(COMPLETE));
    assertEquals(1, plain.calls);
  }

  @Test
  void aCommandOutsideTheListIsNotRunAgain() {
    Chain chain = chainAfter(interceptor, coded(BuiltinExceptionCode.DEADLOCK));
    Command<?> read = new GetTaskVariableCmd("task-1", "x", false);
    assertThrows(ProcessEngineException.class, () -> interceptor.execute(read));
    assertEquals(1, chain.calls);
  }

  @Test
  void insideACallersTransactionTheFailureGoesBackToTheCaller() {
    // The caller's transaction has to fail whole; running only this command again would break that.
    TransactionSynchronizationManager.setActualTransactionActive(true);
    Chain chain = chainAfter(interceptor, coded(BuiltinExceptionCode.DEADLOCK));
    assertThrows(ProcessEngineException.class, () -> interceptor.execute(COMPLETE));
    assertEquals(1, chain.calls);
  }

  @Test
  void thePluginAddsTheInterceptorBeforeTheEnginesOwnAndKeepsTheOthers() {
    StandaloneInMemProcessEngineConfiguration configuration = new StandaloneInMemProcessEngineConfiguration();
    Chain other = new Chain();
    configuration.setCustomPreCommandInterceptorsTxRequired(new ArrayList<>(List.of(other)));
    new ConcurrencyRetry().preInit(configuration);
    List<CommandInterceptor> before = configuration.getCustomPreCommandInterceptorsTxRequired();
    assertEquals(2, before.size());
    assertSame(other, before.get(0));
    assertInstanceOf(ConcurrencyRetry.Interceptor.class, before.get(1));
  }
}

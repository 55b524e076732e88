package id.go.pontianak.lapor.engine;

import static org.operaton.bpm.engine.authorization.Permissions.UPDATE;
import static org.operaton.bpm.engine.authorization.Permissions.UPDATE_INSTANCE;
import static org.operaton.bpm.engine.authorization.Resources.PROCESS_DEFINITION;
import static org.operaton.bpm.engine.authorization.Resources.PROCESS_INSTANCE;

import java.util.ArrayList;
import java.util.List;
import org.operaton.bpm.engine.authorization.ProcessDefinitionPermissions;
import org.operaton.bpm.engine.authorization.ProcessInstancePermissions;
import org.operaton.bpm.engine.impl.cfg.AbstractProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.CommandChecker;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.cfg.auth.AuthorizationCommandChecker;
import org.operaton.bpm.engine.impl.cfg.multitenancy.TenantCommandChecker;
import org.operaton.bpm.engine.impl.cmd.SetExternalTaskRetriesCmd;
import org.operaton.bpm.engine.impl.cmd.SetExternalTasksRetriesCmd;
import org.operaton.bpm.engine.impl.context.Context;
import org.operaton.bpm.engine.impl.db.CompositePermissionCheck;
import org.operaton.bpm.engine.impl.db.PermissionCheckBuilder;
import org.operaton.bpm.engine.impl.interceptor.Command;
import org.operaton.bpm.engine.impl.interceptor.CommandInvocationContext;
import org.operaton.bpm.engine.impl.persistence.entity.ExecutionEntity;

/**
 * RETRY_JOB also allows setting the retries of a failed external task, so the supervisors' Cockpit is read-only plus
 * retry: the engine checks an external task's retries as UPDATE_INSTANCE, which would also let them change
 * variables, suspend, modify or message instances. A separate class (not a bean method of LaporEngineApplication)
 * because it extends the engine's AuthorizationCommandChecker; every other check stays the engine's own.
 */
public class ExternalTaskRetryPermission extends AbstractProcessEnginePlugin {

  @Override
  public void preInit(ProcessEngineConfigurationImpl configuration) {
    // The engine's default list (ProcessEngineConfigurationImpl.initCommandCheckers) with the authorization checker
    // replaced; the list must stay mutable.
    List<CommandChecker> checkers = new ArrayList<>();
    checkers.add(new TenantCommandChecker());
    checkers.add(new Checker());
    configuration.setCommandCheckers(checkers);
  }

  /** The engine's authorization checks, except that retrying an external task accepts RETRY_JOB too. */
  static class Checker extends AuthorizationCommandChecker {

    @Override
    public void checkUpdateProcessInstanceById(String processInstanceId) {
      if (!setsExternalTaskRetries()) {
        super.checkUpdateProcessInstanceById(processInstanceId);
        return;
      }
      ExecutionEntity instance = findExecutionById(processInstanceId);
      if (instance == null) {
        return;
      }
      String key = instance.getProcessDefinition().getKey();
      // The same permissions the engine accepts for a failed job's retries (checkUpdateRetriesJob).
      CompositePermissionCheck retry = new PermissionCheckBuilder()
          .disjunctive()
          .atomicCheckForResourceId(PROCESS_INSTANCE, instance.getProcessInstanceId(), ProcessInstancePermissions.RETRY_JOB)
          .atomicCheckForResourceId(PROCESS_DEFINITION, key, ProcessDefinitionPermissions.RETRY_JOB)
          .atomicCheckForResourceId(PROCESS_INSTANCE, instance.getProcessInstanceId(), UPDATE)
          .atomicCheckForResourceId(PROCESS_DEFINITION, key, UPDATE_INSTANCE)
          .build();
      getAuthorizationManager().checkAuthorization(retry);
    }

    /** Only the two commands that set nothing but retries (one task, or a list of them synchronously). */
    static boolean setsExternalTaskRetries() {
      CommandInvocationContext invocation = Context.getCommandInvocationContext();
      if (invocation == null) {
        return false;
      }
      Command<?> command = invocation.getCommand();
      return command != null
          && (command.getClass() == SetExternalTaskRetriesCmd.class
              || command.getClass() == SetExternalTasksRetriesCmd.class);
    }
  }
}

package id.go.pontianak.lapor.engine;

import org.operaton.bpm.engine.impl.cfg.AbstractProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.history.event.HistoryEvent;
import org.operaton.bpm.engine.impl.history.producer.CacheAwareHistoryEventProducer;
import org.operaton.bpm.engine.impl.persistence.entity.ExecutionEntity;

/**
 * A form submitted in Tasklist writes each string it carries twice into history: as the variable's update (a
 * detail of its historic variable instance) and as a "form field" detail linked to no variable. When a reporter is
 * erased (lapor/erasure.py, lapor/process/redaction.py) a staff note naming them is removed from history with its
 * historic variable instance; no REST call removes a single form-field detail. So form-field details are not
 * written: every value stays in history as the variable's update, where the erasure can reach it.
 */
public class NoFormFieldHistory extends AbstractProcessEnginePlugin {

  @Override
  public void preInit(ProcessEngineConfigurationImpl configuration) {
    configuration.setHistoryEventProducer(new Producer());
  }

  /** The engine's own producer, but for form fields; the form handler skips an event that is null. */
  static final class Producer extends CacheAwareHistoryEventProducer {
    @Override
    public HistoryEvent createFormPropertyUpdateEvt(
        ExecutionEntity execution, String propertyId, String propertyValue, String taskId) {
      return null;
    }
  }
}

package id.go.pontianak.lapor.engine;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.impl.cfg.StandaloneInMemProcessEngineConfiguration;
import org.operaton.bpm.engine.impl.history.producer.CacheAwareHistoryEventProducer;
import org.operaton.bpm.engine.impl.history.producer.HistoryEventProducer;

class NoFormFieldHistoryTest {

  @Test
  void aFormFieldMakesNoHistoryEventAndEveryOtherEventIsTheEnginesOwn() {
    StandaloneInMemProcessEngineConfiguration configuration = new StandaloneInMemProcessEngineConfiguration();
    new NoFormFieldHistory().preInit(configuration);
    HistoryEventProducer producer = configuration.getHistoryEventProducer();
    assertInstanceOf(CacheAwareHistoryEventProducer.class, producer);
    assertNull(producer.createFormPropertyUpdateEvt(null, "verificationNote", "Sudah ditelepon Bu Siti", "task-1"));
  }
}

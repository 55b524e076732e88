package id.go.pontianak.lapor.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.variable.Variables;

class ProofPhotoCheckTest {

  private static final byte[] JPEG = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 16};

  @Test
  void aJpegIsAccepted() {
    byte[] bytes = ProofPhotoCheck.checked(Variables.fileValue("bukti.jpg").file(JPEG).create());
    assertEquals(JPEG.length, bytes.length);
  }

  @Test
  void noPhotoIsRefusedInIndonesian() {
    ProcessEngineException e = assertThrows(ProcessEngineException.class, () -> ProofPhotoCheck.checked(null));
    assertEquals(ProofPhotoCheck.MISSING, e.getMessage());
  }

  @Test
  void anEmptyFileIsRefused() {
    ProcessEngineException e =
        assertThrows(
            ProcessEngineException.class,
            () -> ProofPhotoCheck.checked(Variables.fileValue("x.jpg").file(new byte[0]).create()));
    assertEquals(ProofPhotoCheck.MISSING, e.getMessage());
  }

  @Test
  void aTextVariableIsNotAPhoto() {
    assertThrows(ProcessEngineException.class, () -> ProofPhotoCheck.checked(Variables.stringValue("999")));
  }

  @Test
  void aFileThatIsNoImageIsRefused() {
    ProcessEngineException e =
        assertThrows(
            ProcessEngineException.class,
            () -> ProofPhotoCheck.checked(Variables.fileValue("a.pdf").file("%PDF-1.4".getBytes()).create()));
    assertEquals(ProofPhotoCheck.NOT_A_PHOTO, e.getMessage());
  }

  @Test
  void aPhotoOverTheCapIsRefused() {
    byte[] big = Arrays.copyOf(JPEG, ProofPhotoCheck.MAX_BYTES + 1);
    ProcessEngineException e =
        assertThrows(
            ProcessEngineException.class,
            () -> ProofPhotoCheck.checked(Variables.fileValue("b.jpg").file(big).create()));
    assertEquals(ProofPhotoCheck.TOO_LARGE, e.getMessage());
  }
}

package id.go.pontianak.lapor.engine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.delegate.DelegateTask;
import org.operaton.bpm.engine.delegate.TaskListener;
import org.operaton.bpm.engine.variable.value.FileValue;
import org.operaton.bpm.engine.variable.value.TypedValue;

/**
 * Refuses the completion of "Laporkan penyelesaian" unless a proof photo is attached as the File variable
 * {@code proofPhotoUpload}, a JPEG, PNG or WebP of at most {@link #MAX_BYTES}: the transaction rolls back and
 * nothing is recorded. The {@code lapor-proof} worker that follows stores the photo with the report and deletes the
 * variable, so a later round (a result the reporter rejected) needs a new photo. Referenced from the model as
 * {@code camunda:delegateExpression="${proofPhotoCheck}"} on the task's complete event.
 */
public class ProofPhotoCheck implements TaskListener {

  public static final String VARIABLE = "proofPhotoUpload";
  public static final int MAX_BYTES = 5 * 1024 * 1024;

  static final String MISSING =
      "Foto bukti penyelesaian wajib dilampirkan: unggah foto hasil pekerjaan di lokasi laporan ini.";
  static final String TOO_LARGE = "Foto bukti terlalu besar: maksimal 5 MB.";
  static final String NOT_A_PHOTO = "Berkas foto bukti bukan foto JPEG, PNG atau WebP.";

  @Override
  public void notify(DelegateTask task) {
    checked(task.getExecution().getVariableTyped(VARIABLE, false));
  }

  /** The photo's bytes, or a refusal in Bahasa Indonesia that says what to do. */
  static byte[] checked(TypedValue value) {
    if (!(value instanceof FileValue file) || file.getValue() == null) {
      throw new ProcessEngineException(MISSING);
    }
    byte[] bytes;
    try (InputStream in = file.getValue()) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      throw new ProcessEngineException(MISSING, e);
    }
    if (bytes.length == 0) {
      throw new ProcessEngineException(MISSING);
    }
    if (bytes.length > MAX_BYTES) {
      throw new ProcessEngineException(TOO_LARGE);
    }
    if (mimeType(bytes) == null) {
      throw new ProcessEngineException(NOT_A_PHOTO);
    }
    return bytes;
  }

  /** The image type its first bytes declare (the worker decodes it in full), or null. */
  static String mimeType(byte[] b) {
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return "image/jpeg";
    }
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (b.length >= 8 && Arrays.equals(Arrays.copyOf(b, 8), png)) {
      return "image/png";
    }
    if (b.length >= 12
        && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
        && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
      return "image/webp";
    }
    return null;
  }
}

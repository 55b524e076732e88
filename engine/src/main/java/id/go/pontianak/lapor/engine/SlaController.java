package id.go.pontianak.lapor.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.TaskService;
import org.operaton.bpm.engine.runtime.ProcessInstance;
import org.operaton.bpm.engine.task.Task;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The supervisors' SLA view for Cockpit's dashboard (app/cockpit/scripts/lapor-sla.js): the LAPOR! API computes the
 * figures (GET /staff/sla, the same computation as the monthly recap), this adds who holds each at-risk report's open
 * task. Only a Cockpit login of koordinator, kepala-bidang or operaton-admin sees it: 401 without one, 403 for others.
 */
@RestController
public class SlaController {

  static final String PROCESS_ID = "lapor-pengaduan";
  private static final MediaType CSV = new MediaType("text", "csv", StandardCharsets.UTF_8);

  private final TaskService tasks;
  private final RuntimeService runtime;
  private final String apiUrl;
  private final String apiToken;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();

  public SlaController(
      TaskService tasks,
      RuntimeService runtime,
      @Value("${lapor.sla.api-url}") String apiUrl,
      @Value("${lapor.sla.api-token}") String apiToken) {
    this.tasks = tasks;
    this.runtime = runtime;
    this.apiUrl = apiUrl.replaceAll("/+$", "");
    this.apiToken = apiToken;
  }

  @GetMapping(value = "/lapor/sla", produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<String> view(
      HttpServletRequest request,
      @RequestParam(required = false) String start,
      @RequestParam(required = false) String end,
      @RequestParam(required = false) String within) {
    return answer(request, start, end, within, false);
  }

  @GetMapping(value = "/lapor/sla.csv")
  public ResponseEntity<String> csv(
      HttpServletRequest request,
      @RequestParam(required = false) String start,
      @RequestParam(required = false) String end,
      @RequestParam(required = false) String within) {
    return answer(request, start, end, within, true);
  }

  private ResponseEntity<String> answer(
      HttpServletRequest request, String start, String end, String within, boolean asCsv) {
    switch (SlaAccess.of(request.getSession(false))) {
      case NOT_LOGGED_IN:
        return error(HttpStatus.UNAUTHORIZED, "unauthorized", "Masuk ke Cockpit terlebih dahulu.");
      case FORBIDDEN:
        return error(HttpStatus.FORBIDDEN, "forbidden", "Tampilan SLA hanya untuk Koordinator dan Kepala Bidang.");
      default:
        break;
    }
    HttpResponse<String> response;
    try {
      response = fetch(start, end, within);
    } catch (IOException e) {
      return error(HttpStatus.BAD_GATEWAY, "api_unreachable", "Layanan LAPOR! tidak dapat dihubungi; coba lagi.");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return error(HttpStatus.BAD_GATEWAY, "api_unreachable", "Layanan LAPOR! tidak dapat dihubungi; coba lagi.");
    }
    if (response.statusCode() == 422) {
      return ResponseEntity.unprocessableEntity().contentType(MediaType.APPLICATION_JSON).body(response.body());
    }
    if (response.statusCode() != 200) {
      return error(HttpStatus.BAD_GATEWAY, "api_refused", "Layanan LAPOR! menolak permintaan (" + response.statusCode() + ").");
    }
    JsonNode view;
    try {
      view = SlaView.withHolders(json.readTree(response.body()), this::assignees, this::instanceOf);
    } catch (IOException e) {
      return error(HttpStatus.BAD_GATEWAY, "api_invalid", "Jawaban layanan LAPOR! tidak terbaca.");
    }
    ResponseEntity.BodyBuilder ok = ResponseEntity.ok().cacheControl(CacheControl.noStore());
    if (asCsv) {
      String name = "sla-" + view.path("start").asText() + "-" + view.path("end").asText() + ".csv";
      return ok.contentType(CSV)
          .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + name + "\"")
          .body(SlaView.csv(view));
    }
    return ok.contentType(MediaType.APPLICATION_JSON).body(view.toString());
  }

  private HttpResponse<String> fetch(String start, String end, String within)
      throws IOException, InterruptedException {
    Map<String, String> query = new LinkedHashMap<>();
    query.put("start", start);
    query.put("end", end);
    query.put("within", within);
    String encoded =
        query.entrySet().stream()
            .filter(e -> e.getValue() != null && !e.getValue().isEmpty())
            .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(apiUrl + "/staff/sla" + (encoded.isEmpty() ? "" : "?" + encoded)))
            .timeout(Duration.ofSeconds(20))
            .header("Authorization", "Bearer " + apiToken)
            .header("Accept", "application/json")
            .GET()
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** The assignees of the open tasks of these instances (comma-separated when several run at once). */
  private Map<String, String> assignees(List<String> instanceIds) {
    Map<String, String> result = new HashMap<>();
    for (Task task : tasks.createTaskQuery().processInstanceIdIn(instanceIds.toArray(String[]::new)).active().list()) {
      if (task.getAssignee() != null) {
        result.merge(task.getProcessInstanceId(), task.getAssignee(), (a, b) -> a + ", " + b);
      }
    }
    return result;
  }

  private String instanceOf(String trackingId) {
    List<ProcessInstance> found =
        runtime.createProcessInstanceQuery().processInstanceBusinessKey(trackingId, PROCESS_ID).listPage(0, 1);
    return found.isEmpty() ? null : found.get(0).getId();
  }

  private static ResponseEntity<String> error(HttpStatus status, String code, String message) {
    String body =
        "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message.replace("\"", "\\\"") + "\",\"details\":null}}";
    return ResponseEntity.status(status).cacheControl(CacheControl.noStore()).contentType(MediaType.APPLICATION_JSON).body(body);
  }
}

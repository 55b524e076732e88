package id.go.pontianak.lapor.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The API's SLA view (GET /staff/sla) as Cockpit shows it: each at-risk report gains who holds its open task and its
 * process instance, and the list becomes a CSV for Excel (UTF-8 with a BOM, semicolons as Indonesian Excel expects,
 * Indonesian headers). Pure functions, so the unit tests need neither an engine nor an API.
 */
final class SlaView {

  static final String BOM = "\uFEFF";
  static final List<String> CSV_HEADERS =
      List.of(
          "Nomor laporan",
          "Judul",
          "OPD",
          "Status",
          "Tahap",
          "Batas waktu",
          "Sisa hari kerja",
          "Terlambat",
          "Dipegang oleh",
          "Petugas",
          "Halaman laporan");

  private SlaView() {}

  /**
   * Adds {@code assignee} (empty when the open task is unclaimed or there is none) and fills {@code
   * process_instance_id} from the engine when the API did not know it.
   *
   * @param assignees process instance id -> the assignees of its open tasks, for the ids given
   * @param instanceOf tracking id -> the running instance with that business key, or null
   */
  static JsonNode withHolders(
      JsonNode view, Function<List<String>, Map<String, String>> assignees, Function<String, String> instanceOf) {
    JsonNode rows = view.path("at_risk");
    List<String> ids = new ArrayList<>();
    for (JsonNode row : rows) {
      ObjectNode object = (ObjectNode) row;
      String id = text(row, "process_instance_id");
      if (id.isEmpty()) {
        String found = instanceOf.apply(text(row, "tracking_id"));
        id = found == null ? "" : found;
        if (!id.isEmpty()) {
          object.put("process_instance_id", id);
        }
      }
      if (!id.isEmpty()) {
        ids.add(id);
      }
    }
    Map<String, String> byInstance = ids.isEmpty() ? Map.of() : assignees.apply(ids);
    for (JsonNode row : rows) {
      ((ObjectNode) row).put("assignee", byInstance.getOrDefault(text(row, "process_instance_id"), ""));
    }
    return view;
  }

  /** Exactly the rows of the at-risk list, in its order. */
  static String csv(JsonNode view) {
    StringBuilder out = new StringBuilder(BOM);
    line(out, CSV_HEADERS);
    for (JsonNode row : view.path("at_risk")) {
      line(
          out,
          List.of(
              text(row, "tracking_id"),
              text(row, "title"),
              text(row, "opd_name"),
              text(row, "status_label"),
              text(row, "deadline_label"),
              text(row, "due_text"),
              row.path("working_days_left").asText(),
              row.path("late").asBoolean() ? "Ya" : "Tidak",
              text(row, "holder"),
              text(row, "assignee"),
              text(row, "staff_url")));
    }
    return out.toString();
  }

  private static void line(StringBuilder out, List<String> cells) {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        out.append(';');
      }
      out.append(cell(cells.get(i)));
    }
    out.append("\r\n");
  }

  /** A cell quoted when it must be, and never read by Excel as a formula (=, +, -, @ at the start of text). */
  static String cell(String value) {
    String safe = value;
    if (!safe.isEmpty() && "=+-@\t\r".indexOf(safe.charAt(0)) >= 0 && !safe.matches("-?\\d+")) {
      safe = "'" + safe;
    }
    if (safe.contains(";") || safe.contains("\"") || safe.contains("\n") || safe.contains("\r")) {
      return '"' + safe.replace("\"", "\"\"") + '"';
    }
    return safe;
  }

  private static String text(JsonNode row, String field) {
    JsonNode value = row.path(field);
    return value.isMissingNode() || value.isNull() ? "" : value.asText();
  }
}

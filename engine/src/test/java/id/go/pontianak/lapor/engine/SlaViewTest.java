package id.go.pontianak.lapor.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.webapp.impl.security.auth.Authentications;
import org.operaton.bpm.webapp.impl.security.auth.UserAuthentication;

class SlaViewTest {

  private static final String VIEW =
      "{\"start\":\"2026-12-01\",\"end\":\"2026-12-31\",\"at_risk\":["
          + "{\"tracking_id\":\"SLA-C\",\"title\":\"Lampu; padam \\\"lagi\\\"\",\"opd_name\":\"Belum didisposisi\","
          + "\"status_label\":\"Belum Terverifikasi\",\"deadline_label\":\"Verifikasi oleh Admin Pengaduan\","
          + "\"due_text\":\"Rabu, 2 Desember 2026 pukul 23.59 WIB\",\"working_days_left\":-13,\"late\":true,"
          + "\"holder\":\"Admin Pengaduan Daerah\",\"staff_url\":\"http://x/files/reports/SLA-C?e=1\","
          + "\"process_instance_id\":\"pi-1\"},"
          + "{\"tracking_id\":\"SLA-D\",\"title\":\"=HYPERLINK(\\\"http://evil\\\")\",\"opd_name\":\"Belum didisposisi\","
          + "\"status_label\":\"Belum Terverifikasi\",\"deadline_label\":\"Disposisi ke OPD\","
          + "\"due_text\":\"Rabu, 23 Desember 2026 pukul 23.59 WIB\",\"working_days_left\":2,\"late\":false,"
          + "\"holder\":\"Admin Pengaduan / Analis / Kepala Bidang\",\"staff_url\":\"http://x/files/reports/SLA-D?e=1\","
          + "\"process_instance_id\":null}]}";

  private static JsonNode view() throws Exception {
    return new ObjectMapper().readTree(VIEW);
  }

  @Test
  void eachRowGainsItsAssigneeAndMissingInstance() throws Exception {
    List<List<String>> asked = new ArrayList<>();
    JsonNode enriched =
        SlaView.withHolders(
            view(),
            ids -> {
              asked.add(ids);
              return Map.of("pi-1", "admin-pengaduan");
            },
            trackingId -> "SLA-D".equals(trackingId) ? "pi-2" : null);
    assertEquals(List.of(List.of("pi-1", "pi-2")), asked);  // one task query for the whole list
    assertEquals("admin-pengaduan", enriched.at("/at_risk/0/assignee").asText());
    assertEquals("pi-2", enriched.at("/at_risk/1/process_instance_id").asText());
    assertEquals("", enriched.at("/at_risk/1/assignee").asText());
  }

  @Test
  void theCsvHoldsExactlyTheRowsForExcel() throws Exception {
    String csv = SlaView.csv(SlaView.withHolders(view(), ids -> Map.of("pi-1", "admin-pengaduan"), key -> null));
    assertEquals('\uFEFF', csv.charAt(0));
    String[] lines = csv.substring(1).split("\r\n");
    assertEquals(3, lines.length);
    assertEquals(
        "Nomor laporan;Judul;OPD;Status;Tahap;Batas waktu;Sisa hari kerja;Terlambat;Dipegang oleh;Petugas;Halaman laporan",
        lines[0]);
    assertEquals(
        "SLA-C;\"Lampu; padam \"\"lagi\"\"\";Belum didisposisi;Belum Terverifikasi;Verifikasi oleh Admin Pengaduan;"
            + "Rabu, 2 Desember 2026 pukul 23.59 WIB;-13;Ya;Admin Pengaduan Daerah;admin-pengaduan;"
            + "http://x/files/reports/SLA-C?e=1",
        lines[1]);
    // A title that Excel would run as a formula is kept as text.
    assertTrue(lines[2].startsWith("SLA-D;\"'=HYPERLINK(\"\"http://evil\"\")\";"), lines[2]);
  }

  @Test
  void onlySupervisorsGetIn() {
    assertEquals(SlaAccess.Decision.NOT_LOGGED_IN, SlaAccess.of(new Authentications()));
    assertEquals(SlaAccess.Decision.ALLOWED, SlaAccess.of(login("koordinator", "koordinator")));
    assertEquals(SlaAccess.Decision.ALLOWED, SlaAccess.of(login("kabid", "kepala-bidang")));
    assertEquals(SlaAccess.Decision.ALLOWED, SlaAccess.of(login("admin", "operaton-admin")));
    assertEquals(SlaAccess.Decision.FORBIDDEN, SlaAccess.of(login("opd-dishub", "opd-dishub")));
    assertEquals(SlaAccess.Decision.FORBIDDEN, SlaAccess.of(login("admin-pengaduan", "admin-pengaduan")));
    assertEquals(SlaAccess.Decision.FORBIDDEN, SlaAccess.of(login("nobody")));
  }

  private static Authentications login(String user, String... groups) {
    UserAuthentication authentication = new UserAuthentication(user, SlaAccess.ENGINE);
    authentication.setGroupIds(List.of(groups));
    Authentications authentications = new Authentications();
    authentications.addOrReplace(authentication);
    return authentications;
  }
}

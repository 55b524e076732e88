package id.go.pontianak.lapor.engine;

import jakarta.servlet.http.HttpSession;
import java.util.List;
import java.util.Set;
import org.operaton.bpm.webapp.impl.security.auth.AuthenticationUtil;
import org.operaton.bpm.webapp.impl.security.auth.Authentications;
import org.operaton.bpm.webapp.impl.security.auth.UserAuthentication;

/**
 * Who may see the SLA view: a Cockpit login (the webapps keep it in the HTTP session) of a supervisor. The view lists
 * every OPD's late reports, so an OPD liaison or Admin Pengaduan gets 403 even when logged in.
 */
final class SlaAccess {

  static final Set<String> SUPERVISOR_GROUPS = Set.of("koordinator", "kepala-bidang", "operaton-admin");
  static final String ENGINE = "default";

  enum Decision {
    ALLOWED,
    NOT_LOGGED_IN,
    FORBIDDEN
  }

  private SlaAccess() {}

  /** The decision for a request's session (null: the request has none). */
  static Decision of(HttpSession session) {
    if (session == null) {
      return Decision.NOT_LOGGED_IN;
    }
    return of(AuthenticationUtil.getAuthsFromSession(session));
  }

  static Decision of(Authentications authentications) {
    List<UserAuthentication> users =
        authentications.getAuthentications().stream()
            .filter(a -> ENGINE.equals(a.getProcessEngineName()))
            .toList();
    if (users.isEmpty()) {
      return Decision.NOT_LOGGED_IN;
    }
    boolean supervisor =
        users.stream()
            .anyMatch(u -> u.getGroupIds() != null && u.getGroupIds().stream().anyMatch(SUPERVISOR_GROUPS::contains));
    return supervisor ? Decision.ALLOWED : Decision.FORBIDDEN;
  }
}

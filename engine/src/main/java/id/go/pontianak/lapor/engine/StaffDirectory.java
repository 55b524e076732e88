package id.go.pontianak.lapor.engine;

import java.util.stream.Collectors;
import org.operaton.bpm.engine.IdentityService;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.identity.Group;
import org.operaton.bpm.engine.identity.User;

/**
 * Who completed a task, as the next person reads it: the model maps {@code ${staffDirectory.name(currentUser())}}
 * and {@code ${staffDirectory.groups(currentUser())}} when the disposition is made, so the OPD's notice names the
 * person and their role. The lookup runs as the person completing the task, who may read their own user and the
 * groups they belong to (the engine's default authorizations); the workers need no right to read the staff directory.
 */
public class StaffDirectory {

  private final IdentityService identity;

  public StaffDirectory(IdentityService identity) {
    this.identity = identity;
  }

  /** First and last name, or the user id; empty without a user (a completion by no one logged in). */
  public String name(String userId) {
    if (userId == null || userId.isBlank()) {
      return "";
    }
    try {
      User user = identity.createUserQuery().userId(userId).singleResult();
      if (user == null) {
        return userId;
      }
      String name = (nonNull(user.getFirstName()) + " " + nonNull(user.getLastName())).trim();
      return name.isEmpty() ? userId : name;
    } catch (ProcessEngineException e) {
      return userId;
    }
  }

  /** The ids of the user's groups, comma-separated (the workers map them to the SOP's role names). */
  public String groups(String userId) {
    if (userId == null || userId.isBlank()) {
      return "";
    }
    try {
      return identity.createGroupQuery().groupMember(userId).list().stream()
          .map(Group::getId)
          .sorted()
          .collect(Collectors.joining(","));
    } catch (ProcessEngineException e) {
      return "";
    }
  }

  private static String nonNull(String value) {
    return value == null ? "" : value;
  }
}

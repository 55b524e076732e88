package id.go.pontianak.lapor.engine;

import org.operaton.bpm.engine.IdentityService;
import org.operaton.bpm.engine.rest.security.auth.ProcessEngineAuthenticationFilter;
import org.operaton.bpm.engine.rest.security.auth.impl.HttpBasicAuthenticationProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;

/** The Operaton engine of LAPOR! Pontianak: everything else is configuration (application.yaml). */
@SpringBootApplication
public class LaporEngineApplication {

  static final String DEFAULT_ADMIN_PASSWORD = "admin";

  public static void main(String[] args) {
    String refusal = refusal(System.getenv());
    if (refusal != null) {
      System.err.println(refusal);
      System.exit(2);
    }
    SpringApplication.run(LaporEngineApplication.class, args);
  }

  /** Production never starts with the default administrator password (application.yaml's fallback). */
  static String refusal(java.util.Map<String, String> env) {
    String password = env.getOrDefault("LAPOR_ENGINE_ADMIN_PASSWORD", "");
    boolean production = "production".equalsIgnoreCase(env.getOrDefault("LAPOR_ENVIRONMENT", ""));
    if (production && (password.isBlank() || DEFAULT_ADMIN_PASSWORD.equals(password))) {
      return "LAPOR_ENVIRONMENT=production refuses the default administrator password: "
          + "set LAPOR_ENGINE_ADMIN_PASSWORD to the administrator's own password.";
    }
    return null;
  }

  /** The REST API is open by default; no property closes it, so every call must log in with HTTP Basic. */
  @Bean
  public FilterRegistrationBean<ProcessEngineAuthenticationFilter> restBasicAuthentication() {
    FilterRegistrationBean<ProcessEngineAuthenticationFilter> registration =
        new FilterRegistrationBean<>(new ProcessEngineAuthenticationFilter());
    registration.setName("lapor-rest-basic-auth");
    registration.addInitParameter("authentication-provider", HttpBasicAuthenticationProvider.class.getName());
    registration.addUrlPatterns("/engine-rest/*");
    return registration;
  }

  /** Supervisors retry failed external tasks with RETRY_JOB, so they need no UPDATE_INSTANCE (lapor/roles.py). */
  @Bean
  public ExternalTaskRetryPermission externalTaskRetryPermission() {
    return new ExternalTaskRetryPermission();
  }

  /** A quiet engine waits between job acquisitions even when max-wait is set below the idle wait. */
  @Bean
  public JobIdleWait jobIdleWait() {
    return new JobIdleWait();
  }

  /** A command that lost a deadlock to another on the same report runs again instead of answering HTTP 500. */
  @Bean
  public ConcurrencyRetry concurrencyRetry() {
    return new ConcurrencyRetry();
  }

  /** A Tasklist form writes its values into history once, as variable updates an erasure can remove. */
  @Bean
  public NoFormFieldHistory noFormFieldHistory() {
    return new NoFormFieldHistory();
  }

  /** "Laporkan penyelesaian" completes only with a proof photo attached in Tasklist (bpmn/penyelesaian-opd.html). */
  @Bean
  public ProofPhotoCheck proofPhotoCheck() {
    return new ProofPhotoCheck();
  }

  /** The name and groups of whoever completes a disposition, for the OPD's notice (bpmn/lapor-pengaduan.bpmn). */
  @Bean
  public StaffDirectory staffDirectory(IdentityService identityService) {
    return new StaffDirectory(identityService);
  }
}

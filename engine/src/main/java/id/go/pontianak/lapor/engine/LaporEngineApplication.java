package id.go.pontianak.lapor.engine;

import org.operaton.bpm.engine.rest.security.auth.ProcessEngineAuthenticationFilter;
import org.operaton.bpm.engine.rest.security.auth.impl.HttpBasicAuthenticationProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;

/** The Operaton engine of LAPOR! Pontianak: everything else is configuration (application.yaml). */
@SpringBootApplication
public class LaporEngineApplication {

  public static void main(String[] args) {
    SpringApplication.run(LaporEngineApplication.class, args);
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
}

// Starts Swagger UI on the service's own OpenAPI document. A separate file, not an inline
// script, so the page's Content-Security-Policy can allow scripts from 'self' only.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The default sends the spec's URL to validator.swagger.io and shows its badge: an
    // external request. The page must load nothing from outside the service.
    validatorUrl: null,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 1,
  });
});

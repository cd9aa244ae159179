// Swagger UI for the OMS API, served from local assets (works offline).
window.addEventListener("load", function () {
  var url = document.getElementById("swagger-init").dataset.schemaUrl;
  window.ui = SwaggerUIBundle({
    url: url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // The default validator badge sends the schema's address to validator.swagger.io from any
    // host but localhost: the docs must not leak where a merchant's OMS lives.
    validatorUrl: null,
    requestInterceptor: function (request) {
      request.headers["Accept"] = "application/vnd.api+json";
      return request;
    },
  });
});

// Validates an OpenAPI document with @apidevtools/swagger-parser (schema and $refs); exits non-zero with the reason.
import SwaggerParser from "@apidevtools/swagger-parser";

try {
  const api = await SwaggerParser.validate(process.argv[2]);
  console.log(`valid: ${api.info.title} ${api.info.version}, OpenAPI ${api.openapi}`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

// The official SDK's endpoint table as JSON: method, path template, and the descriptor's name, from which the
// SDK names its types (getPage -> GetPageParameters, GetPageResponse). Read, never written by hand, so a route
// the emulator serves that the SDK does not know is found, not assumed.
const api = require("@notionhq/client/build/src/api-endpoints");
const out = [];
for (const [name, d] of Object.entries(api)) {
  if (!d || typeof d !== "object" || typeof d.path !== "function") continue;
  const params = Object.fromEntries(d.pathParams.map((p) => [p, `{${p}}`]));
  out.push({
    name,
    method: d.method.toUpperCase(),
    path: "/v1/" + d.path(params),
    queryParams: d.queryParams,
    bodyParams: d.bodyParams,
  });
}
process.stdout.write(JSON.stringify(out));

/**
 * The rendered Fluentd pipeline against the pinned image's plugins: every parameter is one the
 * plugin has at the image's version, label keys are de-dotted by an explicit step (the metadata
 * filter lost its `de_dot` in 3.0.0) and the service index reads the de-dotted key, rejected
 * documents land somewhere visible, and the OpenSearch output's credential refresh is explicit.
 */
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import { deDot, FluentSection, param, parseFluentConf, sections, unvettedParams } from "../infra/lib/fluentConf";
import { defaults } from "../infra/logging/fluentd";
import { fluentdPipeline, SERVICE_LABEL } from "../infra/logging/fluentdPipeline";
import { FLUENTD_IMAGE_GEMS, VETTED_PARAMS } from "../infra/logging/fluentdPlugins";

const OPTIONS = {
  endpoint: "vpc-logs.ap-northeast-2.es.amazonaws.com",
  region: "ap-northeast-2",
  namespace: "logging",
  indexPrefix: "logs",
  bufferLimit: "4GB",
  retryTimeout: "72h",
};
const conf = fluentdPipeline(OPTIONS);
const root = parseFluentConf(conf);

const directives = (name: string, type: string): FluentSection[] =>
  sections(root)
    .map((s) => s.section)
    .filter((s) => s.name === name && param(s, "@type") === type);
const recordOf = (s: FluentSection): FluentSection | undefined => s.children.find((c) => c.name === "record");
/** Seconds of a Fluentd :time value (`50m`, `1h`, `30s`, `3000`). */
function seconds(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(value.trim());
  assert.ok(m !== null, `not a Fluentd time: ${value}`);
  return Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
}

describe("Fluentd pipeline vs the pinned image's plugins", () => {
  it("the vetted plugin table is for the image the DaemonSet runs", () => {
    assert.equal(FLUENTD_IMAGE_GEMS.image, defaults.image, "re-read the new image's Gemfile.lock and the plugins' parameters, then update infra/logging/fluentdPlugins.ts");
  });

  it("every parameter of the rendered pipeline is one its plugin has at the image's version", () => {
    assert.deepEqual(unvettedParams(root, VETTED_PARAMS), []);
  });

  it("the check catches a parameter the plugin removed (kubernetes_metadata_filter's de_dot, gone since 3.0.0)", () => {
    const stale = parseFluentConf("<filter kubernetes.**>\n  @type kubernetes_metadata\n  de_dot true\n  de_dot_separator _\n</filter>\n");
    assert.deepEqual(unvettedParams(stale, VETTED_PARAMS), [
      'filter:kubernetes_metadata: parameter "de_dot" is not a parameter of the pinned plugin (Fluentd would only warn and ignore it)',
      'filter:kubernetes_metadata: parameter "de_dot_separator" is not a parameter of the pinned plugin (Fluentd would only warn and ignore it)',
    ]);
    const deDotParams = sections(root).flatMap(({ section }) => section.params.filter(([k]) => k.startsWith("de_dot")));
    assert.deepEqual(deDotParams, [], "the pipeline itself sets none");
  });

  it("de-dots label keys in an explicit step right after the metadata filter, and names the service from the de-dotted key", () => {
    const filters = root.children.filter((s) => s.name === "filter").map((s) => param(s, "@type"));
    const metadata = filters.indexOf("kubernetes_metadata");
    assert.deepEqual(filters.slice(metadata, metadata + 3), ["kubernetes_metadata", "record_transformer", "record_transformer"]);
    const [dedot, service] = root.children.filter((s) => s.name === "filter").slice(metadata + 1, metadata + 3);
    assert.equal(param(dedot, "enable_ruby"), "true");
    const dedotRecord = recordOf(dedot);
    assert.ok(dedotRecord !== undefined);
    assert.deepEqual(dedotRecord.params.map(([k]) => k), ["kubernetes"]);
    const expression = param(dedotRecord, "kubernetes") ?? "";
    // One `${...}` spanning the whole value: with enable_ruby and auto_typecast (default true)
    // record_transformer evaluates it as one Ruby expression and keeps the Hash it returns
    // (fluent/fluentd v1.19.2 lib/fluent/plugin/filter_record_transformer.rb preprocess_map).
    assert.ok(expression.startsWith("${") && expression.endsWith("}") && expression.split("${").length === 2, expression);
    assert.match(expression, /%w\[labels namespace_labels\]/);
    assert.match(expression, /\.tr\("\.", "_"\)/);

    const serviceRecord = recordOf(service);
    assert.ok(serviceRecord !== undefined);
    const lookup = param(serviceRecord, "service") ?? "";
    assert.equal(SERVICE_LABEL, "app.kubernetes.io/name");
    assert.ok(lookup.includes(`record.dig("kubernetes", "labels", "${deDot(SERVICE_LABEL)}")`), lookup);
    assert.equal(deDot(SERVICE_LABEL), "app_kubernetes_io/name");
  });

  it("routes documents OpenSearch rejects (and records a filter failed on) to their own index, never back into @ERROR", () => {
    const label = root.children.find((s) => s.name === "label" && s.arg === "@ERROR");
    assert.ok(label !== undefined, "a <label @ERROR>: without it fluent-plugin-opensearch's rejected records are only logged");
    const [wrap] = label.children.filter((s) => s.name === "filter");
    assert.equal(param(wrap, "@type"), "record_transformer");
    assert.equal(param(wrap, "renew_record"), "true");
    const fields = recordOf(wrap)?.params.map(([k]) => k) ?? [];
    assert.deepEqual(fields, ["tag", "namespace", "pod", "rejected"]);
    assert.match(param(recordOf(wrap) ?? wrap, "rejected") ?? "", /^\$\{begin; record\.to_json; rescue StandardError; /, "the whole record as one string, so it cannot hit a mapping conflict again");
    const [out] = label.children.filter((s) => s.name === "match");
    assert.equal(param(out, "@type"), "opensearch");
    assert.equal(param(out, "logstash_prefix"), "logs-_rejected", "an index no service can be named into (label values cannot start with _), inside the retention's logs-*");
    assert.equal(param(out, "emit_error_label_event"), "false", "a record rejected again must not loop back into @ERROR");
    const buffer = out.children.find((c) => c.name === "buffer");
    assert.ok(buffer !== undefined);
    assert.equal(param(buffer, "overflow_action"), "drop_oldest_chunk", "errors never block the main pipeline");
    assert.notEqual(param(buffer, "path"), param(directives("match", "opensearch")[0].children.find((c) => c.name === "buffer") ?? buffer, "path"), "its own buffer directory");
    // The main output keeps re-emitting rejected records (the plugin's default).
    const main = root.children.find((s) => s.name === "match" && param(s, "@type") === "opensearch");
    assert.ok(main !== undefined);
    assert.equal(param(main, "emit_error_label_event"), undefined);
  });

  it("every OpenSearch output refreshes its assumed-role credentials explicitly, inside the 1-hour STS session", () => {
    const outputs = directives("match", "opensearch");
    assert.equal(outputs.length, 2);
    for (const out of outputs) {
      const endpoint = out.children.find((c) => c.name === "endpoint");
      assert.ok(endpoint !== undefined);
      const interval = param(endpoint, "refresh_credentials_interval");
      assert.ok(interval !== undefined, "1.1.5's default \"5h\" runs every 5 seconds; 1.1.6's 18000 s outlives the session");
      assert.ok(seconds(interval) >= 300 && seconds(interval) < 3600, interval);
      assert.equal(param(endpoint, "url"), `https://${OPTIONS.endpoint}`);
    }
  });
});

/**
 * The de-dot step's Ruby, run the way record_transformer runs it (auto_typecast: the text
 * between `${` and the final `}` is instance_eval'ed with `record` in scope). Needs `ruby` on
 * the machine (Debian's `ruby` package will do; the image runs Ruby 3.4, the expressions need
 * 2.6+); where there is none this reports as pending.
 */
describe("Fluentd de-dot step, executed by Ruby", function () {
  const hasRuby = spawnSync("ruby", ["--version"]).status === 0;
  before(function () {
    if (!hasRuby) {
      this.skip();
    }
  });

  it("rewrites dotted label and namespace-label keys, keeps everything else, and the service lookup then matches", () => {
    const dedot = root.children.filter((s) => s.name === "filter" && param(s, "@type") === "record_transformer")[0];
    const expression = (param(recordOf(dedot) ?? dedot, "kubernetes") ?? "").slice(2, -1);
    const service = (param(recordOf(root.children.filter((s) => s.name === "filter" && param(s, "@type") === "record_transformer")[1]) ?? dedot, "service") ?? "").slice(2, -1);
    const script = `
require "json"
# Like record_transformer's expander: the expression runs with the placeholders as locals, on an
# object stripped of Object's methods, so it can only call methods of the values it is given.
class Cleanroom
  def expand(__str_to_eval__, tag, time, record, tag_parts, tag_prefix, tag_suffix, hostname)
    instance_eval(__str_to_eval__)
  end
  KEEP = %i[__send__ __id__ instance_eval object_id respond_to? method_missing class expand]
  Object.instance_methods.each { |m| undef_method(m) unless KEEP.include?(m) }
end
record = JSON.parse(STDIN.read)
record["kubernetes"] = Cleanroom.new.expand(ARGV[0], "kubernetes.x", 0, record, [], [], [], "node")
record["service"] = Cleanroom.new.expand(ARGV[1], "kubernetes.x", 0, record, [], [], [], "node")
puts JSON.generate(record)
`;
    const input = {
      message: "hello",
      kubernetes: {
        pod_name: "kps-operator-0",
        container_name: "kube-prometheus-stack",
        labels: { app: "kps-operator", "app.kubernetes.io/name": "Prometheus-Operator", "pod-template-hash": "abc" },
        namespace_labels: { "kubernetes.io/metadata.name": "monitoring" },
      },
    };
    const out = JSON.parse(execFileSync("ruby", ["-e", script, expression, service], { input: JSON.stringify(input) }).toString()) as Record<string, unknown>;
    assert.deepEqual(out, {
      message: "hello",
      kubernetes: {
        pod_name: "kps-operator-0",
        container_name: "kube-prometheus-stack",
        labels: { app: "kps-operator", "app_kubernetes_io/name": "Prometheus-Operator", "pod-template-hash": "abc" },
        namespace_labels: { "kubernetes_io/metadata_name": "monitoring" },
      },
      service: "prometheus-operator",
    });
    const bare = JSON.parse(execFileSync("ruby", ["-e", script, expression, service], { input: JSON.stringify({ message: "x", kubernetes: { container_name: "Web" } }) }).toString()) as Record<string, unknown>;
    assert.deepEqual(bare, { message: "x", kubernetes: { container_name: "Web" }, service: "web" });
  });

  it("the @ERROR label's expressions cannot raise (an error there would loop back into @ERROR), even on invalid UTF-8", () => {
    const label = root.children.find((s) => s.name === "label" && s.arg === "@ERROR");
    const record = label?.children.find((s) => s.name === "filter")?.children.find((c) => c.name === "record");
    assert.ok(record !== undefined);
    const fields = record.params.map(([k, v]) => [k, v.slice(2, -1)]);
    const script = `
require "json"
class Cleanroom
  def expand(__str_to_eval__, tag, time, record, tag_parts, tag_prefix, tag_suffix, hostname)
    instance_eval(__str_to_eval__)
  end
  KEEP = %i[__send__ __id__ instance_eval object_id respond_to? method_missing class expand]
  Object.instance_methods.each { |m| undef_method(m) unless KEEP.include?(m) }
end
fields = JSON.parse(ARGV[0])
records = [
  { "message" => "ok", "kubernetes" => { "namespace_name" => "apps", "pod_name" => "student-blue-1" } },
  { "message" => "bad \\xFF byte".dup.force_encoding("UTF-8"), "kubernetes" => "not a hash" },
]
out = records.map { |r| fields.to_h { |k, expr| [k, Cleanroom.new.expand(expr, "kubernetes.x", 0, r, [], [], [], "node")] } }
puts JSON.generate(out.map { |o| o.transform_values { |v| v.to_s.scrub } })
`;
    const out = JSON.parse(execFileSync("ruby", ["-e", script, JSON.stringify(fields)]).toString()) as Array<Record<string, string>>;
    assert.deepEqual(out[0], { tag: "kubernetes.x", namespace: "apps", pod: "student-blue-1", rejected: '{"message":"ok","kubernetes":{"namespace_name":"apps","pod_name":"student-blue-1"}}' });
    assert.deepEqual([out[1].namespace, out[1].pod], ["", ""]);
    // Ruby's json gem either encodes the byte somehow or refuses it (by version); either way a string comes out.
    assert.match(out[1].rejected, /bad .+ byte/);
  });
});

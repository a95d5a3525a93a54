/**
 * The Fluentd plugins of the pinned image (`defaults.image` of ./fluentd.ts) and the parameters
 * the pipeline may use with each, every one read in the plugin's source at the version the image
 * ships. test/fluentd.test.ts fails on any parameter of the rendered pipeline that is not listed
 * here, so a parameter a plugin never had, or dropped (kubernetes_metadata_filter's `de_dot`,
 * removed in 3.0.0), cannot be ignored silently again. Data only.
 */
import type { VettedSection } from "../lib/fluentConf";

/**
 * `fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0` is built from tag
 * v1.19.2-1.0 (commit b79786a7), docker-image/v1.19/debian-opensearch/Gemfile.lock.
 */
export const FLUENTD_IMAGE_GEMS = {
  image: "fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0",
  fluentd: "1.19.2",
  "fluent-plugin-kubernetes_metadata_filter": "3.8.0",
  "fluent-plugin-opensearch": "1.1.5",
  "fluent-plugin-concat": "2.6.0",
  "fluent-plugin-parser-cri": "0.1.1",
} as const;

const CORE = "fluent/fluentd v1.19.2 lib/fluent";
const OPENSEARCH = "fluent/fluent-plugin-opensearch v1.1.5 (5bf8450f) lib/fluent/plugin/out_opensearch.rb";

/** Parameters of an output's `<buffer>` with `@type file` (core Output, Buffer and buf_file). */
const FILE_BUFFER: VettedSection = {
  params: {
    path: `${CORE}/plugin/buf_file.rb:35`,
    flush_mode: `${CORE}/plugin/output.rb:69`,
    flush_interval: `${CORE}/plugin/output.rb:70`,
    flush_thread_count: `${CORE}/plugin/output.rb:72`,
    overflow_action: `${CORE}/plugin/output.rb:79`,
    retry_forever: `${CORE}/plugin/output.rb:81`,
    retry_timeout: `${CORE}/plugin/output.rb:82`,
    retry_type: `${CORE}/plugin/output.rb:90`,
    retry_wait: `${CORE}/plugin/output.rb:97`,
    retry_max_interval: `${CORE}/plugin/output.rb:99`,
    chunk_limit_size: `${CORE}/plugin/buffer.rb:50`,
    total_limit_size: `${CORE}/plugin/buffer.rb:51`,
  },
};

/** By section key (see `unvettedParams` in infra/lib/fluentConf.ts). */
export const VETTED_PARAMS: Readonly<Record<string, VettedSection>> = {
  system: { params: { log_level: `${CORE}/system_config.rb:39` } },
  label: { params: {} },
  "source:monitor_agent": { params: { bind: `${CORE}/plugin/in_monitor_agent.rb:32`, port: `${CORE}/plugin/in_monitor_agent.rb:34` } },
  "source:tail": {
    params: {
      path: `${CORE}/plugin/in_tail.rb:66`,
      tag: `${CORE}/plugin/in_tail.rb:72`,
      exclude_path: `${CORE}/plugin/in_tail.rb:74`,
      pos_file: `${CORE}/plugin/in_tail.rb:78`,
      read_from_head: `${CORE}/plugin/in_tail.rb:82`,
      refresh_interval: `${CORE}/plugin/in_tail.rb:87`,
      follow_inodes: `${CORE}/plugin/in_tail.rb:117`,
    },
  },
  // fluent-plugin-parser-cri 0.1.1: no parameters used.
  "source:tail/parse:cri": { params: {} },
  "filter:concat": {
    params: Object.fromEntries(
      (
        [
          ["key", 10],
          ["separator", 12],
          ["use_partial_cri_logtag", 42],
          ["partial_cri_logtag_key", 44],
          ["partial_cri_stream_key", 46],
        ] as const
      ).map(([k, line]) => [k, `fluent-plugins-nursery/fluent-plugin-concat v2.6.0 (17238388) lib/fluent/plugin/filter_concat.rb:${line}`]),
    ),
  },
  // Read at 3.7.1 (c5047ca, lib/fluent/plugin/filter_kubernetes_metadata.rb:86); 3.8.0's source is
  // not readable here. No de_dot/de_dot_separator since 3.0.0 (commit 4171b98, fabric8io/fluent-plugin-kubernetes_metadata_filter#347). Fluentd
  // logs "parameter ... is not used" at startup for anything 3.8.0 lacks: check on first deploy.
  "filter:kubernetes_metadata": {
    params: { skip_master_url: "fabric8io/fluent-plugin-kubernetes_metadata_filter v3.7.1 lib/fluent/plugin/filter_kubernetes_metadata.rb:86" },
  },
  "filter:record_transformer": {
    params: { renew_record: `${CORE}/plugin/filter_record_transformer.rb:37`, enable_ruby: `${CORE}/plugin/filter_record_transformer.rb:41` },
  },
  // The keys of <record> are the fields it sets.
  "filter:record_transformer/record": { params: {}, anyKeys: true },
  "match:opensearch": {
    params: {
      logstash_format: `${OPENSEARCH}:109`,
      logstash_prefix: `${OPENSEARCH}:110`,
      logstash_dateformat: `${OPENSEARCH}:112`,
      utc_index: `${OPENSEARCH}:113`,
      suppress_type_name: `${OPENSEARCH}:114`,
      request_timeout: `${OPENSEARCH}:120`,
      reload_connections: `${OPENSEARCH}:121`,
      reload_on_failure: `${OPENSEARCH}:122`,
      reconnect_on_error: `${OPENSEARCH}:152`,
      emit_error_label_event: `${OPENSEARCH}:166`,
      log_os_400_reason: `${OPENSEARCH}:169`,
    },
  },
  "match:opensearch/endpoint": {
    params: {
      region: `${OPENSEARCH}:187`,
      url: `${OPENSEARCH}:188`,
      assume_role_arn: `${OPENSEARCH}:193`,
      assume_role_web_identity_token_file: `${OPENSEARCH}:196`,
      sts_credentials_region: `${OPENSEARCH}:197`,
      refresh_credentials_interval: `${OPENSEARCH}:198`,
    },
  },
  "match:opensearch/buffer:file": FILE_BUFFER,
  "match:opensearch/secondary:secondary_file": { params: { directory: `${CORE}/plugin/out_secondary_file.rb:29` } },
};

// The effective config in the shape containerd's CRI plugin shows under `config` in Status's verbose
// info (`crictl info`): tools read it to find the CNI directories, the sandbox image, the log line size.
import type { CridConfig, RuntimeHandler } from '../../config/model.ts';

function runtimeShape(h: RuntimeHandler) {
  return {
    runtimeType: h.runtime_type,
    runtimePath: h.runtime_path,
    runtimeEngine: h.runtime_engine,
    PodAnnotations: h.pod_annotations,
    ContainerAnnotations: h.container_annotations,
    runtimeRoot: h.runtime_root,
    options: h.options,
    privileged_without_host_devices: h.privileged_without_host_devices,
    privileged_without_host_devices_all_devices_allowed: h.privileged_without_host_devices_all_devices_allowed,
    baseRuntimeSpec: h.base_runtime_spec,
    cniConfDir: h.cni_conf_dir,
    cniMaxConfNum: h.cni_max_conf_num,
    snapshotter: h.snapshotter,
    sandboxMode: h.sandbox_mode,
  };
}

export function containerdShapedConfig(config: CridConfig) {
  const runtimes = Object.fromEntries(Object.entries(config.runtimes).map(([name, h]) => [name, runtimeShape(h)]));
  return {
    containerd: {
      snapshotter: config.snapshotter,
      defaultRuntimeName: config.default_runtime_name,
      runtimes,
    },
    cni: {
      binDir: config.cni.bin_dirs[0] ?? '',
      binDirs: config.cni.bin_dirs,
      confDir: config.cni.conf_dir,
      maxConfNum: config.cni.max_conf_num,
    },
    registry: { configPath: config.registry_config_path },
    streamServerAddress: config.stream_server_address,
    streamServerPort: config.stream_server_port,
    streamIdleTimeout: config.stream_idle_timeout,
    enableSelinux: config.enable_selinux,
    sandboxImage: config.sandbox_image,
    enableTLSStreaming: config.enable_tls_streaming,
    x509KeyPairStreaming: { tlsCertFile: config.stream_tls_cert_file, tlsKeyFile: config.stream_tls_key_file },
    maxContainerLogSize: config.max_container_log_line_size,
    restrictOOMScoreAdj: config.restrict_oom_score_adj,
    enableUnprivilegedPorts: config.enable_unprivileged_ports,
    enableUnprivilegedICMP: config.enable_unprivileged_icmp,
    ignoreImageDefinedVolumes: config.ignore_image_defined_volumes,
    rootDir: config.crid.root,
    stateDir: config.crid.state,
  };
}

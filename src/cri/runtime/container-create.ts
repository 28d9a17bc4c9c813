// CreateContainer: check the request, then create the container (pod/container/create.ts).
import type { CreateContainerRequest__Output } from '../../generated/runtime/v1/CreateContainerRequest.ts';
import type { CreateContainerResponse } from '../../generated/runtime/v1/CreateContainerResponse.ts';
import type { ContainerConfig__Output } from '../../generated/runtime/v1/ContainerConfig.ts';
import { invalidArgument } from '../../errors.ts';
import type { RpcContext } from '../../server/rpc.ts';
import type { PodDeps } from '../../pod/deps.ts';
import { createContainer } from '../../pod/container/create.ts';

function checkRequest(req: CreateContainerRequest__Output): ContainerConfig__Output {
  if (!req.pod_sandbox_id) throw invalidArgument('CreateContainer: pod_sandbox_id is required');
  if (!req.sandbox_config) throw invalidArgument('CreateContainer: sandbox_config is required');
  const config = req.config;
  if (!config) throw invalidArgument('CreateContainer: config is required');
  if (!config.metadata?.name) throw invalidArgument('container config: metadata.name is required');
  if (!config.image?.image) throw invalidArgument('container config: image.image is required');
  return config;
}

export function createContainerRpc(deps: PodDeps) {
  return async (req: CreateContainerRequest__Output, ctx: RpcContext): Promise<CreateContainerResponse> => {
    const config = checkRequest(req);
    return { container_id: await createContainer(deps, req.pod_sandbox_id, config, ctx.log) };
  };
}

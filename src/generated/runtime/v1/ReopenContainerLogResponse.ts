// Original file: proto/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto


export interface ReopenContainerLogResponse {
}

export interface ReopenContainerLogResponse__Output {
}

export {
  AUTHORIZATION_METADATA_KEY,
  isLocalAddress,
  readTlsFiles,
  readTokenFile,
  type ServerTls,
  STORE_CA_FILE_ENV,
  STORE_TOKEN_ENV,
  STORE_TOKEN_FILE_ENV,
  storeTokenFrom,
} from './auth.js';
export { RemoteThreadStore, type RemoteThreadStoreOptions } from './client.js';
export {
  type GrpcStoreOptions,
  isGrpcStoreSpec,
  type OpenRemoteThreadStoreOptions,
  openRemoteThreadStore,
} from './open.js';
export {
  PROTO_LOADER_OPTIONS,
  threadStoreProtoPath,
  threadStoreService,
} from './proto.js';
export {
  type ServeThreadStoreOptions,
  serveThreadStore,
  type ThreadStoreServer,
  threadStoreHandlers,
} from './server.js';
export { ERROR_TRAILER, fromServiceError, statusCodeOf, toServiceError } from './status.js';

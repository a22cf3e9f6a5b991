export * from './errors.js';
export * from './extract-file.js';
export * from './layout.js';
export * from './lines.js';
export * from './metadata.js';
export * from './reader.js';
export * from './schema.js';

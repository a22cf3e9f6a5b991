/** The method table: every `thread/*` method Skein serves. */
import type { MethodHandler, MethodTable } from '../server/app-server.js';
import type { HandlerContext } from './context.js';
import { forkHandler, resumeHandler, startHandler } from './lifecycle.js';
import { listHandler, loadedListHandler } from './list.js';
import {
  archiveHandler,
  deleteHandler,
  injectItemsHandler,
  metadataUpdateHandler,
  readStateUpdateHandler,
  setNameHandler,
  unarchiveHandler,
  unsubscribeHandler,
} from './mutations.js';
import { itemsListHandler, readHandler, turnsListHandler } from './read.js';

export function threadMethods(ctx: HandlerContext): MethodTable {
  const table: [string, MethodHandler<never>][] = [
    ['thread/start', startHandler(ctx) as MethodHandler<never>],
    ['thread/resume', resumeHandler(ctx) as MethodHandler<never>],
    ['thread/fork', forkHandler(ctx) as MethodHandler<never>],
    ['thread/read', readHandler(ctx) as MethodHandler<never>],
    ['thread/list', listHandler(ctx) as MethodHandler<never>],
    ['thread/loaded/list', loadedListHandler(ctx) as MethodHandler<never>],
    ['thread/archive', archiveHandler(ctx) as MethodHandler<never>],
    ['thread/unarchive', unarchiveHandler(ctx) as MethodHandler<never>],
    ['thread/delete', deleteHandler(ctx) as MethodHandler<never>],
    ['thread/unsubscribe', unsubscribeHandler(ctx) as MethodHandler<never>],
    ['thread/name/set', setNameHandler(ctx) as MethodHandler<never>],
    ['thread/metadata/update', metadataUpdateHandler(ctx) as MethodHandler<never>],
    ['thread/turns/list', turnsListHandler(ctx) as MethodHandler<never>],
    ['thread/items/list', itemsListHandler(ctx) as MethodHandler<never>],
    ['thread/inject_items', injectItemsHandler(ctx) as MethodHandler<never>],
    ['thread/readState/update', readStateUpdateHandler(ctx) as MethodHandler<never>],
  ];
  return new Map(table);
}

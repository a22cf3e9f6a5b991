import * as z from 'zod';

/** The sort vocabulary of every thread listing, spelled once for every layer. */

/**
 * Zod schema of `ThreadSortKey`: creation, last update, or recency (advanced by turn starts).
 * (The app-server's wire spells its own snake_case keys and maps them onto these.)
 */
export const threadSortKeySchema = z.enum(['createdAt', 'updatedAt', 'recencyAt']);

/**
 * What a thread listing sorts by: creation, last update, or recency (advanced by turn starts).
 * A listing of rollout files alone knows no recency and sorts `recencyAt` by last update.
 */
export type ThreadSortKey = z.infer<typeof threadSortKeySchema>;

/** The two sort directions. */
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;

/** Zod schema of `SortDirection`. */
export const sortDirectionSchema = z.enum(SORT_DIRECTIONS);

/** `desc` (newest first, every listing's default) or `asc`. */
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

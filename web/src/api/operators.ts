/** What operators watch: the actor system of this node or of the whole cluster, and its history. */
import { request, type Http, type ResponseOf } from './http';
import type { components } from './schema';

/** One node's supervision tree and actor statistics. */
export type ActorsView = components['schemas']['ActorsView'];
/** Every live node's actor system, and the name of the node that answered. */
export type ClusterActorsView = components['schemas']['ClusterActorsView'];
/** Points per node and kind, one each 10 s. */
export type ActorsHistory = ResponseOf<'/api/v1/admin/actors/history', 'get'>;
export type NodeHistory = components['schemas']['NodeHistoryView'];
export type ActorsPoint = components['schemas']['ActorsPoint'];

type ActorsAnswer = ResponseOf<'/api/v1/admin/actors', 'get'>;

function isCluster(answer: ActorsAnswer): answer is ClusterActorsView {
  return 'nodes' in answer;
}

/** This node's supervision tree and actor statistics. */
export async function getActors(http: Http, signal?: AbortSignal): Promise<ActorsView> {
  const answer = await request(http, 'get', '/api/v1/admin/actors', { query: { scope: 'node' }, config: { signal } });
  if (isCluster(answer)) throw new Error('The server answered the cluster view for one node.');
  return answer;
}

/** Every live node's actor system (each node reports every 2 s; gone after 10 s of silence). */
export async function getCluster(http: Http, signal?: AbortSignal): Promise<ClusterActorsView> {
  const answer = await request(http, 'get', '/api/v1/admin/actors', {
    query: { scope: 'cluster' },
    config: { signal },
  });
  if (!isCluster(answer)) throw new Error('The server answered one node for the cluster view.');
  return answer;
}

/** The last `minutes` (1–15) of every node heard, reporting or not. */
export function getActorsHistory(http: Http, minutes = 15, signal?: AbortSignal) {
  return request(http, 'get', '/api/v1/admin/actors/history', { query: { minutes }, config: { signal } });
}

/** What operators watch: the actor system. */
import { request, type Http, type ResponseOf } from './http';

export type ActorsView = ResponseOf<'/api/v1/admin/actors', 'get'>;

/** This node's supervision tree and actor statistics. */
export function getActors(http: Http, signal?: AbortSignal) {
  return request(http, 'get', '/api/v1/admin/actors', { config: { signal } });
}

#pragma once

#include <caf/atom.hpp>

namespace feedrouter {

// Lifecycle and status.
/// `(snapshot_atom)`: asks a trigger for its status; answered with a trigger_snapshot.
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
/// `(status_atom, trigger_ref, registration_status)`: asks the store to replace a registration's status.
using status_atom = caf::atom_constant<caf::atom("status")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
/// `(admin_disable_atom, std::string message)`: an operator disables a registration (reason ADMIN).
using admin_disable_atom = caf::atom_constant<caf::atom("admdisable")>;
/// `(admin_enable_atom)`: an operator makes a registration active again, an ADMIN disable included.
using admin_enable_atom = caf::atom_constant<caf::atom("admenable")>;
/// `(start_batch_atom)`: the registry's reminder to itself to start the next batch of stored registrations.
using start_batch_atom = caf::atom_constant<caf::atom("startbatch")>;

// Cluster.
/// `(start_shards_atom, shard_start)`: hands the registry the registrations of shards whose leases were acquired.
using start_shards_atom = caf::atom_constant<caf::atom("shardstart")>;
/// `(stop_shards_atom, shards)`: asks the registry to stop the registrations of shards given up or lost.
using stop_shards_atom = caf::atom_constant<caf::atom("shardstop")>;
/// `(shard_batch_atom)`: the registry's reminder to itself to start the next batch of a shard start.
using shard_batch_atom = caf::atom_constant<caf::atom("shardbatch")>;
/// `(gained_atom, leases)`: the lease manager tells the shard runner about leases acquired.
using gained_atom = caf::atom_constant<caf::atom("gained")>;
/// `(lost_atom, leases)`: the lease manager tells the shard runner about leases lost (its triggers stop at once).
using lost_atom = caf::atom_constant<caf::atom("lost")>;
/// `(release_atom, leases)`: the lease manager asks the shard runner to stop shards and flush their writes before it
/// gives their leases away.
using release_atom = caf::atom_constant<caf::atom("release")>;
/// `(leave_atom)`: asks the lease manager to give every lease away and leave the cluster (SIGTERM).
using leave_atom = caf::atom_constant<caf::atom("leave")>;
/// `(notified_atom)`: tells the lease manager to look at the leases now (its listener heard of a change, or a request
/// found its registration's owner gone).
using notified_atom = caf::atom_constant<caf::atom("notified")>;
/// `(expire_atom)`: the lease manager's timer for the earliest lease deadline.
using expire_atom = caf::atom_constant<caf::atom("expire")>;
/// `(cluster_atom)`: asks the lease manager for the cluster's report (GET /v1/cluster).
using cluster_atom = caf::atom_constant<caf::atom("cluster")>;

// Store.
using put_atom = caf::atom_constant<caf::atom("put")>;
/// `(create_atom, registration_record)`: asks the store to put a registration in place of one of the same trigger,
/// whose events, dead letters and deliveries go with it (a CREATE, where put_atom keeps them: an UPDATE).
using create_atom = caf::atom_constant<caf::atom("create")>;
using erase_atom = caf::atom_constant<caf::atom("erase")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
/// `(load_shards_atom, shards)`: asks the store for the registrations of some shards (a cluster's takeover).
using load_shards_atom = caf::atom_constant<caf::atom("loadshards")>;
/// `(lookup_atom, trigger_ref)`: asks the store for one registration as stored.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
/// `(owned_atom, auth_hash, ns)`: asks the store for a key's registrations.
using owned_atom = caf::atom_constant<caf::atom("owned")>;
/// `(count_atom, ns)`: asks the store how many registrations a namespace holds in every shard.
using count_atom = caf::atom_constant<caf::atom("count")>;
/// `(page_atom, ns, after, limit)`: asks the store for a page of every key's registrations (an operator's list).
using page_atom = caf::atom_constant<caf::atom("page")>;
/// `(tally_atom, after, limit)`: asks the store for a page of the namespaces with their counts (an operator's count).
using tally_atom = caf::atom_constant<caf::atom("tally")>;

// Sources and firing.
/// `(tick_atom, ...)`: an actor's own timer fell due: a source's next poll or reconnect, the lease manager's next
/// round, the timer wheel's earliest deadline.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// `(arm_atom, delay, trigger_wakeup)`: a trigger arms a timer on the timer wheel.
using arm_atom = caf::atom_constant<caf::atom("arm")>;
/// `(wakeup_atom, trigger_wakeup)`: a trigger's timer fell due, or something else it waited for happened.
using wakeup_atom = caf::atom_constant<caf::atom("wakeup")>;
/// `(fire_atom, fire_unit)`: a trigger hands its firer one fire.
using fire_atom = caf::atom_constant<caf::atom("fire")>;
/// `(fired_atom, fire_result)`: the answer to one fire reaches its trigger.
using fired_atom = caf::atom_constant<caf::atom("fired")>;
/// `(send_atom, fire_unit)`: a firer's timer to send a fire its namespace's rate held back.
using send_atom = caf::atom_constant<caf::atom("send")>;
/// `(done_atom, ...)`: an HTTP exchange (or a Kafka request) an actor started has finished; the actor sends it to
/// itself.
using done_atom = caf::atom_constant<caf::atom("done")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using hook_atom = caf::atom_constant<caf::atom("hook")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
/// `(load_atom, trigger_ref, limit)`: asks the store for dead letters.
using load_atom = caf::atom_constant<caf::atom("load")>;
/// `(pending_atom, trigger_ref, from_seq, max_rows, max_bytes)`: asks the store for pending events' bodies.
using pending_atom = caf::atom_constant<caf::atom("pending")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
/// `(write_atom, ops, linger_atom)`: a write whose commit no fire waits for; it may wait for others to share it.
using linger_atom = caf::atom_constant<caf::atom("linger")>;
using items_atom = caf::atom_constant<caf::atom("items")>;
/// `(disable_atom, int status_code, std::string message)`: a source asks its trigger to disable the registration.
using disable_atom = caf::atom_constant<caf::atom("disable")>;
/// `(source_status_atom, std::string error)`: a source's attempt failed (error set) or works again (error empty).
using source_status_atom = caf::atom_constant<caf::atom("srcstatus")>;
/// `(prepare_atom)`: asks a source preparer what a registration's source needs before it starts.
using prepare_atom = caf::atom_constant<caf::atom("prepare")>;
/// `(wake_atom)`: a client library's thread says that something waits for the source to take (kafka).
using wake_atom = caf::atom_constant<caf::atom("wake")>;

// The controller.
using verify_atom = caf::atom_constant<caf::atom("verify")>;
using namespaces_atom = caf::atom_constant<caf::atom("namespaces")>;
/// `(rules_atom, trigger_ref, auth_key)`: asks the controller client for a trigger's rules.
using rules_atom = caf::atom_constant<caf::atom("rules")>;
/// `(delete_trigger_atom, trigger_ref, auth_key)`: asks the controller client to delete an OpenWhisk trigger.
using delete_trigger_atom = caf::atom_constant<caf::atom("deltrigger")>;
/// `(delete_rule_atom, rule, auth_key)`: asks the controller client to delete an OpenWhisk rule.
using delete_rule_atom = caf::atom_constant<caf::atom("delrule")>;
/// `(deactivate_rule_atom, rule, auth_key)`: asks the controller client to deactivate an OpenWhisk rule.
using deactivate_rule_atom = caf::atom_constant<caf::atom("deactrule")>;
/// `(github_atom, github_hook_task)`: asks the GitHub hook keeper to install, change or remove a repository hook.
using github_atom = caf::atom_constant<caf::atom("github")>;
/// `(unhook_atom, trigger_ref, attempt)`: the registry's timer to try again to remove a registration's remote hook.
using unhook_atom = caf::atom_constant<caf::atom("unhook")>;

} // namespace feedrouter

"""The one table of topic -> handler: what the worker loop subscribes to, and what the models may ask for."""

from lapor.process.tasks import Handler
from lapor.vocabulary import Topic
from workers import deadlines, national, notifications, proof, recap, status

HANDLERS: dict[Topic, Handler] = {
    Topic.DEADLINE: deadlines.compute_deadline,
    Topic.STATUS: status.record_status,
    Topic.AUTO_COMPLETE: status.auto_complete,
    Topic.NOTIFY: notifications.notify,
    Topic.REMINDER: notifications.remind,
    Topic.RETURN_NATIONAL: national.return_to_national,
    Topic.RECAP: recap.make_recap,
    Topic.PROOF: proof.store_proof_photo,
}

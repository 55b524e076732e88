"""Local logins for every SOP role, so a newcomer can open Operate and Tasklist as each of them.

Camunda 8.6.0's single application (basic login, no Identity) keeps its logins in Operate's user index; there is
no API to add one, so the local run writes them there, in the password format Operate checks (Spring Security's
PBKDF2). docs/operations.md explains the same for the compose stack (deploy/camunda-user.sh). These logins carry
no groups: 8.6 without Identity does not restrict tasks by candidate group (README, "Known limits").
"""

import hashlib
import os

import httpx

from lapor import masterdata

USER_INDEX = "operate-user-1.2.0_"
STAFF_ROLES = {
    "admin-pengaduan": ("Admin Pengaduan Daerah", "OPERATOR"),
    "analis": ("Analis Pengaduan Publik", "OPERATOR"),
    "kepala-bidang": ("Kepala Bidang Informasi dan Komunikasi Publik", "OPERATOR"),
    "koordinator": ("Koordinator Pengaduan Masyarakat", "USER"),
}


def password_hash(password: str, *, salt: bytes | None = None) -> str:
    """`{pbkdf2@SpringSecurity_v5_8}` + hex(salt + PBKDF2-HMAC-SHA256(password, salt, 310000, 32 bytes))."""
    salt = salt or os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 310_000, 32)
    return "{pbkdf2@SpringSecurity_v5_8}" + (salt + key).hex()


def role_users() -> dict[str, tuple[str, str]]:
    """user id -> (display name, Operate role): the staff roles and one Pejabat Penghubung per OPD."""
    users = dict(STAFF_ROLES)
    for opd in masterdata.opd_list():
        users[opd.candidate_group] = (f"Pejabat Penghubung {opd.short_name}", "USER")
    return users


def create_role_users(opensearch_url: str) -> list[str]:
    """Write every role login (password = user id; local, loopback-only cluster) and return the user ids."""
    created = []
    with httpx.Client(base_url=opensearch_url, timeout=30) as client:
        for user_id, (display_name, role) in role_users().items():
            document = {
                "id": user_id,
                "userId": user_id,
                "displayName": display_name,
                "password": password_hash(user_id),
                "roles": [role],
            }
            client.put(f"/{USER_INDEX}/_doc/{user_id}", json=document).raise_for_status()
            created.append(user_id)
        client.post(f"/{USER_INDEX}/_refresh").raise_for_status()
    return created

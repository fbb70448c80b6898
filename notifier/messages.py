"""What a person is told when a transfer changes, in their language (pure)."""

from schemas import Language, TransferState

S = TransferState

MESSAGES: dict[Language, dict[TransferState, str]] = {
    "en": {
        S.INITIALISED: "A request for the records has been made.",
        S.RISK_ACCEPTED: "Both hospitals passed the security and privacy audit.",
        S.RISK_REJECTED: "The request was stopped by the security and privacy audit.",
        S.PATIENT_ACCEPTED: "The patient has given consent.",
        S.PATIENT_REJECTED: "The patient has refused consent.",
        S.EMERGENCY_BYPASS: "Emergency: consent waived to protect the patient's vital interests.",
        S.DATA_AVAILABLE: "The home hospital has the records ready.",
        S.DATA_UNAVAILABLE: "The home hospital holds no records for this patient.",
        S.DATA_TRANSFERRED: "The records have been sent.",
        S.DATA_RECEIVED: "The records have been received.",
        S.CLOSED: "The request is closed.",
        S.CONSENT_REVOKED: "The patient has revoked consent; the transfer is stopped.",
        S.CANCELLED: "The request was cancelled.",
        S.EXPIRED: "Consent was not given in time; the request has expired.",
    },
    "es": {
        S.INITIALISED: "Se ha solicitado el historial clínico.",
        S.RISK_ACCEPTED: "Ambos hospitales han superado la auditoría de seguridad y privacidad.",
        S.RISK_REJECTED: "La auditoría de seguridad y privacidad ha detenido la solicitud.",
        S.PATIENT_ACCEPTED: "El paciente ha dado su consentimiento.",
        S.PATIENT_REJECTED: "El paciente ha rechazado el consentimiento.",
        S.EMERGENCY_BYPASS: "Emergencia: se omite el consentimiento para proteger intereses "
        "vitales del paciente.",
        S.DATA_AVAILABLE: "El hospital de origen tiene el historial preparado.",
        S.DATA_UNAVAILABLE: "El hospital de origen no tiene historial de este paciente.",
        S.DATA_TRANSFERRED: "El historial ha sido enviado.",
        S.DATA_RECEIVED: "El historial ha sido recibido.",
        S.CLOSED: "La solicitud está cerrada.",
        S.CONSENT_REVOKED: "El paciente ha revocado el consentimiento; "
        "la transferencia se detiene.",
        S.CANCELLED: "La solicitud ha sido cancelada.",
        S.EXPIRED: "No se dio el consentimiento a tiempo; la solicitud ha caducado.",
    },
    "sv": {
        S.INITIALISED: "En begäran om journalen har gjorts.",
        S.RISK_ACCEPTED: "Båda sjukhusen klarade säkerhets- och integritetsgranskningen.",
        S.RISK_REJECTED: "Begäran stoppades av säkerhets- och integritetsgranskningen.",
        S.PATIENT_ACCEPTED: "Patienten har gett sitt samtycke.",
        S.PATIENT_REJECTED: "Patienten har avböjt samtycke.",
        S.EMERGENCY_BYPASS: "Nödsituation: samtycke krävs inte för att skydda patientens "
        "vitala intressen.",
        S.DATA_AVAILABLE: "Hemsjukhuset har journalen redo.",
        S.DATA_UNAVAILABLE: "Hemsjukhuset har ingen journal för patienten.",
        S.DATA_TRANSFERRED: "Journalen har skickats.",
        S.DATA_RECEIVED: "Journalen har tagits emot.",
        S.CLOSED: "Begäran är avslutad.",
        S.CONSENT_REVOKED: "Patienten har återkallat sitt samtycke; överföringen stoppas.",
        S.CANCELLED: "Begäran har avbrutits.",
        S.EXPIRED: "Samtycke gavs inte i tid; begäran har löpt ut.",
    },
}


def message_for(state: TransferState, language: Language) -> str:
    return MESSAGES[language][state]

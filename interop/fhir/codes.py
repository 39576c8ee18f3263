"""Code systems, extension URLs and profiles the FHIR door reads and writes (PAS 2.2.1)."""

from __future__ import annotations

PAS = "http://hl7.org/fhir/us/davinci-pas"
PAS_SD = f"{PAS}/StructureDefinition"

PROFILE_REQUEST_BUNDLE = f"{PAS_SD}/profile-pas-request-bundle"
PROFILE_RESPONSE_BUNDLE = f"{PAS_SD}/profile-pas-response-bundle"
PROFILE_INQUIRY_BUNDLE = f"{PAS_SD}/profile-pas-inquiry-request-bundle"
PROFILE_INQUIRY_RESPONSE_BUNDLE = f"{PAS_SD}/profile-pas-inquiry-response-bundle"
PROFILE_CLAIM = f"{PAS_SD}/profile-claim"
PROFILE_CLAIM_UPDATE = f"{PAS_SD}/profile-claim-update"
PROFILE_CLAIMRESPONSE = f"{PAS_SD}/profile-claimresponse"
PROFILE_CLAIMINQUIRYRESPONSE = f"{PAS_SD}/profile-claiminquiryresponse"
PROFILE_COMMUNICATIONREQUEST = f"{PAS_SD}/profile-communicationrequest"

EXT_REVIEW_ACTION = f"{PAS_SD}/extension-reviewAction"
EXT_REVIEW_ACTION_CODE = f"{PAS_SD}/extension-reviewActionCode"
EXT_ITEM_PREAUTH_PERIOD = f"{PAS_SD}/extension-itemPreAuthPeriod"
EXT_ITEM_PREAUTH_ISSUE_DATE = f"{PAS_SD}/extension-itemPreAuthIssueDate"
EXT_ITEM_AUTHORIZED_DETAIL = f"{PAS_SD}/extension-itemAuthorizedDetail"
EXT_ITEM_REQUESTED_SERVICE_DATE = f"{PAS_SD}/extension-itemRequestedServiceDate"
EXT_LEVEL_OF_SERVICE = f"{PAS_SD}/extension-levelOfServiceCode"
EXT_REQUESTED_SERVICE = f"{PAS_SD}/extension-requestedService"
EXT_INFO_CANCELLED = f"{PAS_SD}/modifierextension-infoCancelled"
EXT_CERTIFICATION_TYPE = f"{PAS_SD}/extension-certificationType"
EXT_ITEM_TRACE_NUMBER = f"{PAS_SD}/extension-itemTraceNumber"

PAS_TEMP_CODES = f"{PAS}/CodeSystem/PASTempCodes"
X12_306 = "https://codesystem.x12.org/005010/306"  # review action codes
X12_1322 = "https://codesystem.x12.org/005010/1322"  # certification type (3 = cancel)

HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
LOINC = "http://loinc.org"
SOURCE_OF_PAYMENT = "urn:oid:2.16.840.1.113883.3.221.5"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"

LOINC_WEIGHT_KG = "29463-7"
LOINC_HEIGHT_CM = "8302-2"

#: Where our case ids and authorization numbers live.
PREAUTH_REF_SYSTEM = "urn:priorauth:case-id"
RESPONSE_IDENTIFIER_SYSTEM = "urn:priorauth:claim-response"

#: X12 306 codes and their displays.
REVIEW_ACTIONS = {
    "A1": "Certified in total",
    "A3": "Not Certified",
    "A4": "Pended",
    "A6": "Modified",
    "CT": "Contact Payer",
    "C": "Cancelled",
}

FHIR_JSON = "application/fhir+json"
